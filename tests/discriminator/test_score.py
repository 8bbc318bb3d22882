import random

import pytest
import torch

from rtt.discriminator.model import bin_pack, build_input, init_discriminator
from rtt.discriminator.score import score_relevance
from rtt.models import build_tiny_model, load_tokenizer

INSTRUCTION = "Identify which tokens in the response are relevant to the criteria."


@pytest.fixture(scope="module")
def setup(tmp_path_factory):
    path = str(build_tiny_model(tmp_path_factory.mktemp("tiny") / "tiny"))
    tokenizer = load_tokenizer(path)
    torch.manual_seed(0)
    model = init_discriminator(path, "cpu")
    with torch.no_grad():
        model.score.weight.normal_(0, 1.0)
    rng = random.Random(0)
    words = "the ocean river city garden robot music coffee blue green quick slow".split()
    responses = []
    for n_words in [3, 12, 1, 7, 20]:
        text = " " + " ".join(rng.choice(words) for _ in range(n_words))
        responses.append(tokenizer(text, add_special_tokens=False)["input_ids"] + [tokenizer.eos_token_id])
    items = [
        ["Mention the ocean", "Be short"],
        ["Say hello"],
        [],
        ["Use the word coffee", "Be blue", "End well"],
        ["x"],
    ]
    return model, tokenizer, items, responses


def test_shape_range_and_padding(setup):
    model, tokenizer, items, responses = setup
    scores = score_relevance(model, tokenizer, INSTRUCTION, items, responses, batch_size=3)
    n, k, t = len(responses), max(map(len, items)), max(map(len, responses))
    assert scores.shape == (n, k, t)
    assert scores.dtype == torch.float32 and scores.device.type == "cpu"
    assert scores.min() >= 0 and scores.max() <= 1
    for i in range(n):
        for kk in range(k):
            row = scores[i, kk]
            if kk >= len(items[i]):
                assert torch.all(row == 0)
            else:
                assert torch.all(row[: len(responses[i])] > 0)  # a sigmoid is never exactly 0 here
                assert torch.all(row[len(responses[i]) :] == 0)


@pytest.mark.parametrize(("batch_size", "pack_length"), [(4, 0), (1, 140), (2, 250), (3, 4096)])
def test_packing_and_batching_do_not_change_scores(setup, batch_size, pack_length):
    # the 7 inputs are 60-76 tokens: 0 gives one padded input per row, 140 and 250 rows of one to
    # three inputs, 4096 one row with all of them
    model, tokenizer, items, responses = setup
    lengths = [len(build_input(tokenizer, INSTRUCTION, item, r)[0]) for its, r in zip(items, responses) for item in its]
    sizes = {len(b) for b in bin_pack(lengths, pack_length)}
    assert sizes == {0: {1}, 140: {1, 2}, 250: {1, 3}, 4096: {7}}[pack_length]
    scores = score_relevance(model, tokenizer, INSTRUCTION, items, responses, batch_size, pack_length)
    for i, (row_items, response) in enumerate(zip(items, responses)):
        for k, item in enumerate(row_items):
            alone = score_relevance(model, tokenizer, INSTRUCTION, [[item]], [response], batch_size=1, pack_length=0)
            assert torch.allclose(scores[i, k, : len(response)], alone[0, 0], atol=1e-5)


def test_scores_depend_on_item_and_prefix_only_causally(setup):
    # token t's score sees only the prefix up to t: extending a response leaves earlier scores alone
    model, tokenizer, _, responses = setup
    short, long = responses[0], responses[0][:-1] + responses[1]
    scores = score_relevance(model, tokenizer, INSTRUCTION, [["a"], ["a"]], [short, long])
    same = len(short) - 1
    assert torch.allclose(scores[0, 0, :same], scores[1, 0, :same], atol=1e-5)
    other = score_relevance(model, tokenizer, INSTRUCTION, [["a completely different item"]], [short])
    assert not torch.allclose(scores[0, 0, : len(short)], other[0, 0])


def test_empty_inputs(setup):
    model, tokenizer, _, _ = setup
    assert score_relevance(model, tokenizer, INSTRUCTION, [], []).shape == (0, 0, 0)
    assert score_relevance(model, tokenizer, INSTRUCTION, [[], []], [[1, 2], [3]]).shape == (2, 0, 2)


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_cuda_bf16_scores_match_cpu(setup):
    model, tokenizer, items, responses = setup
    cpu = score_relevance(model, tokenizer, INSTRUCTION, items, responses)
    model.to("cuda")
    try:
        gpu = score_relevance(model, tokenizer, INSTRUCTION, items, responses)
    finally:
        model.to("cpu")
    assert gpu.device.type == "cpu" and gpu.dtype == torch.float32
    assert torch.allclose(cpu, gpu, atol=3e-2)  # bf16 autocast
