"""The policy trainer learns: a response reward that favours one token raises that token's probability."""

from __future__ import annotations

import math

import pytest
import torch

from rtt.config import GRPOConfig
from rtt.grpo.advantages import combine_advantages, response_advantages
from rtt.grpo.logprobs import pack
from rtt.grpo.trainer import PolicyTrainer, lr_factor
from rtt.models import freeze_lower_layers, load_causal_lm, load_tokenizer


def synthetic_batch(tokenizer, target: int, generator: torch.Generator, n: int = 16, length: int = 12):
    """n random responses; response i holds the target token at a random number of positions."""
    prompt = tokenizer("write something", add_special_tokens=False)["input_ids"]
    vocab = len(tokenizer)
    responses = []
    for _ in range(n):
        ids = torch.randint(10, vocab, (length,), generator=generator)
        hits = torch.rand(length, generator=generator) < torch.rand(1, generator=generator)
        responses.append(torch.where(hits, torch.tensor(target), ids).tolist())
    rewards = torch.tensor([r.count(target) / length for r in responses])  # [N]
    return pack([prompt] * n, responses, tokenizer.pad_token_id), rewards


def target_probability(model, batch, target: int) -> float:
    with torch.no_grad():
        logits = model(input_ids=batch.input_ids, attention_mask=batch.attention_mask).logits  # [N, L, V]
        probs = torch.softmax(logits.gather(1, batch.positions.unsqueeze(-1).expand(-1, -1, logits.shape[-1])), -1)
    return float(probs[..., target][batch.response_mask].mean())


@pytest.mark.parametrize("seed", range(10))
def test_rewarded_token_becomes_more_likely_and_every_parameter_moves(tiny_model_dir, seed):
    torch.manual_seed(seed)
    tokenizer = load_tokenizer(tiny_model_dir)
    model = load_causal_lm(tiny_model_dir, torch.device("cpu"))
    target = tokenizer(" the", add_special_tokens=False)["input_ids"][0]
    cfg = GRPOConfig(lr=1e-2, group_size=8, updates_per_batch=2, micro_batch_size=4, max_new_tokens=12)
    trainer = PolicyTrainer(model, cfg, torch.device("cpu"), seed=seed)
    generator = torch.Generator().manual_seed(seed)
    probe, _ = synthetic_batch(tokenizer, target, generator)
    before = {name: p.detach().clone() for name, p in model.named_parameters()}
    p0 = target_probability(model, probe, target)
    for _ in range(5):
        batch, rewards = synthetic_batch(tokenizer, target, generator)
        adv = combine_advantages(
            response_advantages(rewards, cfg.group_size),
            torch.zeros(batch.response_mask.shape),
            batch.response_mask,
            "add",
            0.0,
        )  # [N, T]: plain GRPO
        stats = trainer.update(batch, adv)
    p1 = target_probability(model, probe, target)
    assert p1 > 2 * p0, (p0, p1)
    unchanged = [name for name, p in model.named_parameters() if torch.equal(p, before[name])]
    assert unchanged == []
    assert trainer.global_step == 10 and stats["grad_norm"] > 0


def test_old_logprobs_come_from_the_sampling_policy(tiny_model_dir):
    """The first mini-batch sees ratio 1 (nothing clipped); after one optimizer step the ratio moves."""
    torch.manual_seed(0)
    tokenizer = load_tokenizer(tiny_model_dir)
    model = load_causal_lm(tiny_model_dir, torch.device("cpu"))
    batch, rewards = synthetic_batch(tokenizer, 100, torch.Generator().manual_seed(0), n=8)
    cfg = GRPOConfig(lr=1e-2, group_size=8, updates_per_batch=1, micro_batch_size=8)
    trainer = PolicyTrainer(model, cfg, torch.device("cpu"))
    adv = response_advantages(rewards, 8)[:, None] * batch.response_mask  # [N, T]
    stats = trainer.update(batch, adv)
    assert stats["clip_frac"] == 0.0 and stats["ratio_mean"] == pytest.approx(1.0, abs=1e-5)


def one_update(model, tokenizer, cfg: GRPOConfig) -> tuple[PolicyTrainer, dict[str, torch.Tensor]]:
    """The trainer after one update on a synthetic batch, and the weights from before it."""
    before = {name: p.detach().clone() for name, p in model.named_parameters()}
    batch, rewards = synthetic_batch(tokenizer, 100, torch.Generator().manual_seed(0), n=8)
    trainer = PolicyTrainer(model, cfg, torch.device("cpu"))
    trainer.update(batch, response_advantages(rewards, 8)[:, None] * batch.response_mask)  # [N, T]
    return trainer, before


@pytest.mark.parametrize("train_layers", [0, 1, 2, 5])
def test_train_layers_trains_only_the_top_layers_and_the_final_norm(tiny_model_dir, train_layers):
    """The tiny model has layers 0 and 1 and ties its LM head to the embeddings (one tensor, listed
    once as model.embed_tokens.weight). 0 trains every weight; 1 only layer 1 and the final norm;
    2 or more (the model has 2) every layer and the norm, the embeddings (so the tied head) still frozen."""
    torch.manual_seed(0)
    tokenizer = load_tokenizer(tiny_model_dir)
    model = load_causal_lm(tiny_model_dir, torch.device("cpu"))
    cfg = GRPOConfig(lr=1e-2, group_size=8, updates_per_batch=1, train_layers=train_layers)
    trainer, before = one_update(model, tokenizer, cfg)
    names = [name for name, _ in model.named_parameters()]
    top = {n for n in names if n.startswith("model.layers.1." if train_layers == 1 else "model.layers.")}
    trainable = set(names) if train_layers == 0 else top | {"model.norm.weight"}
    changed = {name for name, p in model.named_parameters() if not torch.equal(p, before[name])}
    assert changed == trainable
    assert {name for name, p in model.named_parameters() if p.requires_grad} == trainable
    optimized = {id(p) for group in trainer.optimizer.param_groups for p in group["params"]}
    assert optimized == {id(p) for name, p in model.named_parameters() if name in trainable}
    assert len(trainer.optimizer.state) == len(trainable)  # AdamW state for the trained weights only


def test_an_untied_lm_head_stays_trainable(tiny_model_dir):
    from transformers import AutoConfig, AutoModelForCausalLM

    config = AutoConfig.from_pretrained(tiny_model_dir)
    config.tie_word_embeddings = False
    model = AutoModelForCausalLM.from_config(config)
    freeze_lower_layers(model, 1)
    assert model.lm_head.weight.requires_grad and not model.model.embed_tokens.weight.requires_grad
    freeze_lower_layers(model, 0)
    assert all(p.requires_grad for p in model.parameters())


def test_lr_schedule_hand_worked():
    # warm-up over 2 steps: 1/2, 2/2; then constant 1, or cosine over the remaining 4 steps:
    # progress 0, 1/4, 2/4, 3/4 -> 0.5 * (1 + cos(pi * p)) = 1, 0.8536, 0.5, 0.1464
    assert [lr_factor(s, 2, 6, "constant") for s in range(6)] == [0.5, 1.0, 1.0, 1.0, 1.0, 1.0]
    assert [round(lr_factor(s, 2, 6, "cosine"), 4) for s in range(6)] == [0.5, 1.0, 1.0, 0.8536, 0.5, 0.1464]
    assert lr_factor(0, 0, 10, "constant") == 1.0 and lr_factor(99, 0, 10, "cosine") == 0.0


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_update_under_bf16_autocast_on_gpu(tiny_model_dir):
    device = torch.device("cuda")
    tokenizer = load_tokenizer(tiny_model_dir)
    model = load_causal_lm(tiny_model_dir, device)
    batch, rewards = synthetic_batch(tokenizer, 100, torch.Generator().manual_seed(0), n=8)
    trainer = PolicyTrainer(model, GRPOConfig(lr=1e-3, group_size=8, micro_batch_size=4), device)
    stats = trainer.update(batch, response_advantages(rewards, 8)[:, None] * batch.response_mask)
    assert all(map(math.isfinite, stats.values())) and stats["grad_norm"] > 0
    assert next(model.parameters()).dtype == torch.float32  # master weights stay fp32


def test_sampler_logprobs_give_the_gap_and_tis_reweights_the_update(tiny_model_dir):
    """The gap is measured against the trainer's own recomputation; with the sampler's logprobs equal
    to it, TIS weights are exactly 1 and the update is the plain one; shifted, the update differs."""
    tokenizer = load_tokenizer(tiny_model_dir)
    batch, rewards = synthetic_batch(tokenizer, 100, torch.Generator().manual_seed(0), n=8)
    adv = response_advantages(rewards, 8)[:, None] * batch.response_mask  # [N, T]

    def updated(cap: float, shift: float) -> tuple[dict, dict[str, torch.Tensor]]:
        torch.manual_seed(0)
        model = load_causal_lm(tiny_model_dir, torch.device("cpu"))
        trainer = PolicyTrainer(
            model,
            GRPOConfig(lr=1e-2, group_size=8, updates_per_batch=1, micro_batch_size=4, tis_cap=cap),
            torch.device("cpu"),
        )
        sampler = (
            trainer.logprobs(model, batch) - shift * batch.response_mask
        )  # [N, T]: the sampler less sure by `shift`
        stats = trainer.update(batch, adv, sampler)
        return stats, {n: p.detach().clone() for n, p in model.named_parameters()}

    plain, plain_weights = updated(0.0, 0.0)
    assert plain["logprob_gap_abs"] == plain["logprob_gap_max"] == plain["logprob_gap_kl"] == 0.0
    same, same_weights = updated(2.0, 0.0)
    assert all(torch.equal(same_weights[n], w) for n, w in plain_weights.items())
    shifted, shifted_weights = updated(1.5, 0.3)  # r = e^.3 = 1.35 on every token: below the cap, every term x1.35
    assert shifted["logprob_gap_abs"] == pytest.approx(0.3, abs=1e-5)
    assert shifted["logprob_gap_kl"] == pytest.approx(math.exp(0.3) - 1.3, abs=1e-5)
    assert not all(torch.equal(shifted_weights[n], w) for n, w in plain_weights.items())


def test_one_update_per_batch_takes_old_logprobs_from_its_own_forward(tiny_model_dir):
    """updates_per_batch=1: no separate no-grad pass (2 forwards for 2 micro-batches, not 4), and the
    same weights as an optimizer step given pi_old from that pass."""
    tokenizer = load_tokenizer(tiny_model_dir)
    batch, rewards = synthetic_batch(tokenizer, 100, torch.Generator().manual_seed(0), n=8)
    adv = response_advantages(rewards, 8)[:, None] * batch.response_mask  # [N, T]
    cfg = GRPOConfig(lr=1e-2, group_size=8, updates_per_batch=1, micro_batch_size=4)

    def trained(separate_pass: bool) -> tuple[int, dict[str, torch.Tensor]]:
        model = load_causal_lm(tiny_model_dir, torch.device("cpu"))
        trainer = PolicyTrainer(model, cfg, torch.device("cpu"), seed=3)
        forwards = []
        model.model.register_forward_hook(lambda *_: forwards.append(1))
        if separate_pass:  # what update() did before: pi_old from a no-grad pass, then the step
            old = trainer.logprobs(model, batch)  # [N, T]
            model.train()
            trainer._optimizer_step(
                batch, adv, old, False, None, None, torch.randperm(8, generator=torch.Generator().manual_seed(3))
            )
        else:
            trainer.update(batch, adv)
        return len(forwards), {n: p.detach().clone() for n, p in model.named_parameters()}

    fused_forwards, fused = trained(separate_pass=False)
    separate_forwards, separate = trained(separate_pass=True)
    assert (fused_forwards, separate_forwards) == (2, 4)
    assert all(torch.allclose(fused[n], w, atol=1e-6) for n, w in separate.items())
    assert not all(
        torch.equal(fused[n], w)
        for n, w in {n: p for n, p in load_causal_lm(tiny_model_dir, torch.device("cpu")).named_parameters()}.items()
    )
