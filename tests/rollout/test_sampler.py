"""Sampling keeps exactly the ids and logprobs that the trainer will recompute."""

import pytest
import torch

from rtt.grpo.logprobs import pack, token_logprobs
from rtt.models import load_causal_lm
from rtt.rollout.sampler import prompt_token_ids, sample

PROMPTS = ["write a short note", "describe the river in three words please"]


@pytest.fixture(scope="module")
def model(tiny_model_dir):
    torch.manual_seed(0)
    return load_causal_lm(tiny_model_dir, torch.device("cpu"))


@pytest.mark.parametrize("temperature", [1.0, 0.7])
def test_sampled_logprobs_equal_teacher_forced_logprobs(model, tiny_tokenizer, temperature):
    samples = sample(
        model, tiny_tokenizer, PROMPTS, n=3, max_new_tokens=10, temperature=temperature, batch_size=4, seed=1
    )
    batch = pack([s.prompt_token_ids for s in samples], [s.token_ids for s in samples], tiny_tokenizer.pad_token_id)
    with torch.no_grad():
        logp, _ = token_logprobs(model, batch, temperature)  # [N, T]
    for i, s in enumerate(samples):
        assert torch.allclose(logp[i, : len(s.token_ids)], torch.tensor(s.logprobs), atol=1e-4)


def test_order_truncation_and_text(model, tiny_tokenizer):
    samples = sample(model, tiny_tokenizer, PROMPTS, n=3, max_new_tokens=10, batch_size=4, seed=2)
    assert [(s.prompt_index, s.sample_index) for s in samples] == [(p, k) for p in range(2) for k in range(3)]
    eos = tiny_tokenizer.eos_token_id
    for s in samples:
        assert s.prompt_token_ids == prompt_token_ids(tiny_tokenizer, PROMPTS[s.prompt_index])
        assert 1 <= len(s.token_ids) <= 10 and len(s.logprobs) == len(s.token_ids) == len(s.offsets)
        assert (eos in s.token_ids) == s.finished and (not s.finished or s.token_ids[-1] == eos)
        assert eos not in s.token_ids[:-1]
        assert s.text == tiny_tokenizer.decode(s.token_ids, skip_special_tokens=True)


def test_same_seed_same_samples_and_greedy_is_deterministic(model, tiny_tokenizer):
    a = sample(model, tiny_tokenizer, PROMPTS, n=2, max_new_tokens=8, seed=5)
    b = sample(model, tiny_tokenizer, PROMPTS, n=2, max_new_tokens=8, seed=5)
    assert [s.token_ids for s in a] == [s.token_ids for s in b]
    g1 = sample(model, tiny_tokenizer, PROMPTS, n=1, max_new_tokens=8, greedy=True, batch_size=1)
    g2 = sample(model, tiny_tokenizer, PROMPTS, n=1, max_new_tokens=8, greedy=True, batch_size=2)
    assert [s.token_ids for s in g1] == [s.token_ids for s in g2]  # left padding does not change greedy output
