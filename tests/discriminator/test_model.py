import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

from rtt.checkpoints import save_pretrained_atomic
from rtt.discriminator.model import bin_pack, build_input, init_discriminator, load_discriminator, packed_inputs
from rtt.discriminator.score import score_relevance
from rtt.models import build_tiny_model, load_tokenizer

INSTRUCTION = "Identify which tokens in the response are relevant to the criteria."


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    return str(build_tiny_model(tmp_path_factory.mktemp("tiny") / "tiny"))


def test_build_input_keeps_response_ids_verbatim(tiny):
    tokenizer = load_tokenizer(tiny)
    response = tokenizer(" the ocean is blue", add_special_tokens=False)["input_ids"] + [tokenizer.eos_token_id]
    ids, start = build_input(tokenizer, INSTRUCTION, "Mention the ocean", response)
    prefix = tokenizer(f"{INSTRUCTION}\nCriterion: Mention the ocean\nResponse:\n", add_special_tokens=False)[
        "input_ids"
    ]
    assert start == len(prefix)
    assert ids[:start] == prefix
    assert ids[start:] == response
    assert ids[-1] == tokenizer.eos_token_id


def test_build_input_does_not_retokenize(tiny):
    # ids that a re-encode would merge differently ("o","c","e","a","n" spelled as single bytes)
    tokenizer = load_tokenizer(tiny)
    letters = [tokenizer.convert_tokens_to_ids(ch) for ch in "ocean"]
    ids, start = build_input(tokenizer, INSTRUCTION, "x", letters)
    assert ids[start:] == letters


def test_init_gives_token_classifier_with_pad_id(tiny):
    torch.manual_seed(0)
    model = init_discriminator(tiny, "cpu")
    assert type(model).__name__ == "LlamaForTokenClassification"
    assert model.config.num_labels == 1
    assert model.score.out_features == 1
    assert model.config.pad_token_id == load_tokenizer(tiny).pad_token_id
    assert next(model.parameters()).dtype == torch.float32
    # the backbone weights come from the causal LM checkpoint
    from rtt.models import load_causal_lm

    lm = load_causal_lm(tiny, torch.device("cpu"))
    assert torch.equal(model.model.embed_tokens.weight, lm.model.embed_tokens.weight)
    assert torch.equal(model.model.layers[1].mlp.up_proj.weight, lm.model.layers[1].mlp.up_proj.weight)


def test_save_load_round_trip_gives_identical_scores(tiny, tmp_path):
    tokenizer = load_tokenizer(tiny)
    torch.manual_seed(0)
    model = init_discriminator(tiny, "cpu")
    with torch.no_grad():
        model.score.weight.normal_(0, 1.0)  # make the scores vary across tokens
    items = [["Mention the ocean", "Be short"], ["Say hello"]]
    responses = [
        tokenizer(" the ocean is blue", add_special_tokens=False)["input_ids"] + [tokenizer.eos_token_id],
        tokenizer(" hello", add_special_tokens=False)["input_ids"],
    ]
    before = score_relevance(model, tokenizer, INSTRUCTION, items, responses)

    path = tmp_path / "disc"
    save_pretrained_atomic(model, tokenizer, path)
    save_pretrained_atomic(model, tokenizer, path)  # overwriting an existing folder works too
    assert sorted(p.name for p in tmp_path.iterdir()) == ["disc"]  # no temp folders left
    loaded = load_discriminator(path, "cpu")
    after = score_relevance(loaded, load_tokenizer(str(path)), INSTRUCTION, items, responses)
    assert torch.allclose(before, after)
    assert loaded.config.pad_token_id == tokenizer.pad_token_id


def test_init_sets_pad_id_missing_from_backbone_config(tiny, tmp_path):
    import json
    import shutil

    backbone = tmp_path / "no_pad"
    shutil.copytree(tiny, backbone)
    config = json.loads((backbone / "config.json").read_text())
    config.pop("pad_token_id", None)
    (backbone / "config.json").write_text(json.dumps(config))
    model = init_discriminator(str(backbone), "cpu")
    assert model.config.pad_token_id == load_tokenizer(tiny).pad_token_id


def test_bin_pack_hand_worked():
    # first-fit decreasing into 10 tokens: 7 opens bin 0, 6 opens bin 1, 4 fits bin 1 (6+4), 3 fits bin 0
    # (7+3), 12 is too long for any bin and gets one of its own, placed first (longest first)
    assert bin_pack([4, 7, 3, 12, 6], 10) == [[3], [1, 2], [4, 0]]
    assert bin_pack([4, 7, 3], 0) == [[1], [0], [2]]  # no packing: one row per bin, longest first
    assert bin_pack([], 10) == []


@given(st.lists(st.integers(1, 50), max_size=40), st.integers(1, 60))
def test_bin_pack_places_every_row_once_within_capacity(lengths, capacity):
    bins = bin_pack(lengths, capacity)
    assert sorted(i for b in bins for i in b) == list(range(len(lengths)))
    for b in bins:
        assert sum(lengths[i] for i in b) <= capacity or len(b) == 1
    # first fit: a bin was opened only because its first row fitted in no earlier bin, and bins only
    # fill up, so no two bins could have been one
    fill = [sum(lengths[i] for i in b) for b in bins]
    for later in range(1, len(bins)):
        assert all(fill[b] + lengths[bins[later][0]] > capacity for b in range(later))


def test_packed_inputs_hand_worked():
    ids, positions, starts = packed_inputs([[[5, 6, 7], [8, 9]], [[4]]], pad_id=0)
    assert ids.tolist() == [[5, 6, 7, 8, 9], [4, 0, 0, 0, 0]]
    assert positions.tolist() == [[0, 1, 2, 0, 1], [0, 0, 1, 2, 3]]  # restart per input and at the padding
    assert starts == [[0, 3], [0]]


def test_discriminator_device_follows_the_policy_unless_set():
    from rtt.config import load_config
    from rtt.discriminator.model import discriminator_device

    assert discriminator_device(load_config("smoke", ["model.device=cpu"])) == torch.device("cpu")
    assert discriminator_device(
        load_config("smoke", ["model.device=cpu", "discriminator.device=meta"])
    ) == torch.device("meta")
