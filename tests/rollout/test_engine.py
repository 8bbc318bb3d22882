"""The vLLM engine, in this process on CPU, against transformers on the same weights: the same
greedy tokens before and after a weight update, sampled logprobs the trainer recomputes, and a
logprob gap that shows when the engine's weights are stale."""

import pytest
import torch

from rtt.config import load_config
from rtt.grpo.logprobs import pack, token_logprobs
from rtt.grpo.mismatch import logprob_gap, pad_logprobs
from rtt.models import load_causal_lm
from rtt.rollout.engine import VLLMEngine, close_engines, engine_for
from rtt.rollout.sampler import prompt_token_ids, sample

PROMPTS = ["write a short note", "describe the river in three words please", "say hello"]


@pytest.fixture(scope="module")
def engine(untied_model_dir):
    cfg = load_config("smoke", [f"model.policy={untied_model_dir}", "rollout.engine=vllm"])
    yield engine_for(cfg, untied_model_dir, batch_size=8)
    close_engines()


@pytest.fixture
def model(untied_model_dir):
    return load_causal_lm(untied_model_dir, torch.device("cpu"))


def perturb(model, scale: float, seed: int) -> None:
    """Move every weight by seeded noise: a stand-in for optimizer steps."""
    generator = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for p in model.parameters():
            p.add_(torch.randn(p.shape, generator=generator) * scale)


def gap_to_trainer(model, tokenizer, samples, temperature: float) -> dict[str, float]:
    batch = pack([s.prompt_token_ids for s in samples], [s.token_ids for s in samples], tokenizer.pad_token_id)
    with torch.no_grad():
        logp, _ = token_logprobs(model, batch, temperature)  # [N, T]
    return logprob_gap(logp, pad_logprobs([s.logprobs for s in samples], logp.shape[1]), batch.response_mask)


def test_engine_for_builds_one_vllm_engine_and_reuses_it(engine, untied_model_dir):
    assert isinstance(engine, VLLMEngine)
    cfg = load_config("smoke", [f"model.policy={untied_model_dir}", "rollout.engine=vllm"])
    assert engine_for(cfg, untied_model_dir, batch_size=1) is engine
    assert engine_for(load_config("smoke"), untied_model_dir, batch_size=1).name == "hf"


def test_greedy_tokens_match_transformers_before_and_after_a_weight_update(engine, model, tiny_tokenizer):
    def ids(samples):
        return [s.token_ids for s in samples]

    before = engine.sample(model, tiny_tokenizer, PROMPTS, 1, 16, greedy=True, logprobs=False)
    assert ids(before) == ids(sample(model, tiny_tokenizer, PROMPTS, 1, 16, greedy=True, logprobs=False))
    perturb(model, 0.05, seed=1)
    after = engine.sample(model, tiny_tokenizer, PROMPTS, 1, 16, greedy=True, logprobs=False)
    assert ids(after) == ids(sample(model, tiny_tokenizer, PROMPTS, 1, 16, greedy=True, logprobs=False))
    assert ids(after) != ids(before)  # the update changed the answers, so the comparison could fail
    assert engine.sync_s > 0


@pytest.mark.parametrize("temperature", [1.0, 0.7])
def test_sampled_logprobs_are_the_ones_the_trainer_recomputes(engine, model, tiny_tokenizer, temperature):
    samples = engine.sample(model, tiny_tokenizer, PROMPTS, n=3, max_new_tokens=10, temperature=temperature, seed=1)
    assert [(s.prompt_index, s.sample_index) for s in samples] == [(p, k) for p in range(3) for k in range(3)]
    eos = tiny_tokenizer.eos_token_id
    for s in samples:
        assert s.prompt_token_ids == prompt_token_ids(tiny_tokenizer, PROMPTS[s.prompt_index])
        assert 1 <= len(s.token_ids) <= 10 and len(s.logprobs) == len(s.token_ids) == len(s.offsets)
        assert (eos in s.token_ids) == s.finished and eos not in s.token_ids[:-1]
        assert s.text == tiny_tokenizer.decode(s.token_ids, skip_special_tokens=True)
    assert gap_to_trainer(model, tiny_tokenizer, samples, temperature)["logprob_gap_max"] < 1e-4


def test_stale_engine_weights_show_in_the_logprob_gap(engine, model, tiny_tokenizer, monkeypatch):
    engine.sync(model)
    perturb(model, 0.05, seed=2)
    monkeypatch.setattr(engine, "sync", lambda model: None)  # the bug this guards against: no sync
    stale = engine.sample(model, tiny_tokenizer, PROMPTS, n=2, max_new_tokens=10, seed=3)
    monkeypatch.undo()
    fresh = engine.sample(model, tiny_tokenizer, PROMPTS, n=2, max_new_tokens=10, seed=3)
    assert gap_to_trainer(model, tiny_tokenizer, stale, 1.0)["logprob_gap_abs"] > 1e-2
    assert gap_to_trainer(model, tiny_tokenizer, fresh, 1.0)["logprob_gap_max"] < 1e-4


def test_a_seed_gives_the_same_samples(engine, model, tiny_tokenizer):
    a, b, c = (engine.sample(model, tiny_tokenizer, PROMPTS, n=2, max_new_tokens=8, seed=seed) for seed in (5, 5, 6))
    assert [s.token_ids for s in a] == [s.token_ids for s in b] != [s.token_ids for s in c]
    assert len({tuple(s.token_ids) for s in a}) > 1  # the responses of a group differ


def test_a_tied_lm_head_follows_the_embeddings(tiny_model_dir, tiny_tokenizer):
    """The smoke model ties its LM head to its embeddings: after moving only the embeddings, the
    engine scores with the new ones (vLLM's reload alone keeps the old head: rtt.rollout.engine)."""
    cfg = load_config("smoke", [f"model.policy={tiny_model_dir}", "rollout.engine=vllm"])
    engine = engine_for(cfg, tiny_model_dir, batch_size=8)  # closes the untied model's engine
    model = load_causal_lm(tiny_model_dir, torch.device("cpu"))
    assert model.config.tie_word_embeddings
    with torch.no_grad():
        model.model.embed_tokens.weight.add_(
            torch.randn(model.model.embed_tokens.weight.shape, generator=torch.Generator().manual_seed(4)) * 0.5
        )
    samples = engine.sample(model, tiny_tokenizer, PROMPTS, n=2, max_new_tokens=10, seed=4)
    assert gap_to_trainer(model, tiny_tokenizer, samples, 1.0)["logprob_gap_max"] < 1e-4
