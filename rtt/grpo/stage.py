"""RTT-GRPO stage: online policy updates with token-level advantages (METHOD.md sections 2-6).

One step: sample G responses for each of B prompts from the current policy, judge every
(response, item), score token relevance, compute A = A_res + lambda * A_tok, update the policy.
Every step's rollouts (with reward and advantages), verdicts, token scores and statistics are
written to the tables with `round` and `step`, so any step can be inspected or re-scored with SQL.
With `grpo.token_weight=0` this is plain GRPO on the response reward (same code path, no scoring).
"""

from __future__ import annotations

import logging
import shutil
import time
from dataclasses import dataclass

import torch

from rtt.checkpoints import (
    atomic_dir,
    discriminator_dir,
    grpo_state_dir,
    policy_dir,
    save_pretrained_atomic,
    starting_policy,
)
from rtt.config import Config
from rtt.data.items import (
    conversation,
    conversation_text,
    load_prompts,
    load_rubrics,
)
from rtt.data.partitions import step_part
from rtt.data_parallel import RANK_SEED_STRIDE, Ranks, barrier, block, concat_ranks, gather
from rtt.discriminator.model import discriminator_device, load_discriminator
from rtt.grpo.advantages import (
    combine_advantages,
    response_advantages,
    response_rewards,
    token_advantages,
)
from rtt.grpo.logprobs import pack
from rtt.grpo.mismatch import pad_logprobs
from rtt.grpo.relevance import dense, gate, relevance
from rtt.grpo.trainer import PolicyTrainer
from rtt.judge.verdicts import Case, Judge
from rtt.llm.calls import call_rows
from rtt.models import load_causal_lm, load_tokenizer, resolve_device
from rtt.relevance_view import render_html
from rtt.rollout.engine import HFEngine, VLLMEngine, engine_for
from rtt.rollout.rows import pick_prompts, rollout_rows
from rtt.stage_context import StageContext, global_step
from rtt.torchrun import launch, rank_device, rank_main

log = logging.getLogger(__name__)


class Clock:
    """Accumulates wall time per phase of a step."""

    def __init__(self):
        self.times: dict[str, float] = {}
        self.last = time.perf_counter()

    def lap(self, name: str) -> None:
        now = time.perf_counter()
        self.times[name] = self.times.get(name, 0.0) + now - self.last
        self.last = now


def judge_samples(
    judge: Judge, run_id: str, round_: int, step: int, prompts: list[dict], rubrics: dict, samples, rollouts: list[dict]
):
    """Verdict rows per sample, the LLM answers, and the dense verdicts [N, K], item weights [N, K],
    gold labels [N, K, T]."""
    items = [rubrics.get(prompts[s.prompt_index]["prompt_id"], []) for s in samples]
    cases = [
        Case(r["rollout_id"], conversation_text(prompts[s.prompt_index]), s.text, s.offsets, its)
        for r, s, its in zip(rollouts, samples, items)
    ]
    rows, answers = judge.judge(run_id, round_, step, cases, desc=f"grpo r{round_} s{step} judge")
    k = max(max(map(len, items)), 1)
    t = max(max(len(s.token_ids) for s in samples), 1)
    verdicts = dense([[row["verdict"] for row in rs] for rs in rows], k, None)  # [N, K]
    weights = dense([[item.weight for item in its] for its in items], k, None)  # [N, K]
    gold = dense([[row["token_labels"] for row in rs] for rs in rows], k, t)  # [N, K, T]
    return items, rows, answers, verdicts, weights, gold


def step_metrics(rewards, verdicts, adv_res, adv_tok, mask, stats: dict, times: dict, group_size: int) -> dict:
    groups = rewards.view(-1, group_size)  # [B, G]
    known = verdicts != 0  # [N, K]
    n_tokens = int(mask.sum())
    total = sum(times.values())
    return {
        "reward_mean": float(rewards.mean()),
        "reward_std": float(rewards.std()) if len(rewards) > 1 else 0.0,
        "reward_aon": float(response_rewards(verdicts, "all_or_nothing").mean()),
        "reward_csr": float(response_rewards(verdicts, "satisfaction_rate").mean()),
        "item_pass_rate": float((verdicts > 0).sum() / known.sum().clamp(min=1)),
        "zero_var_groups": float((groups.max(1).values == groups.min(1).values).float().mean()),
        "adv_response_abs": float(adv_res.abs().mean()),
        "adv_token_abs": float(adv_tok[mask].abs().mean()) if n_tokens else 0.0,
        **{
            k: stats[k]
            for k in (
                "loss",
                "clip_frac",
                "approx_kl",
                "kl",
                "entropy",
                "grad_norm",
                "lr",
                "logprob_gap_abs",
                "logprob_gap_max",
                "logprob_gap_kl",
            )
        },
        "response_tokens": n_tokens,
        "tokens_per_s": n_tokens / total,
        **{f"t_{name}": seconds for name, seconds in times.items()},
        "t_total": total,
    }


@dataclass
class Learner:
    """What every GRPO step of a stage works with, built once per stage."""

    policy_name: str
    """The policy the stage started from (the `policy` of its rollouts)."""
    model: torch.nn.Module
    tokenizer: object
    trainer: PolicyTrainer
    engine: HFEngine | VLLMEngine
    """Samples from `model`'s current weights (`rtt.rollout.engine`)."""
    judge: Judge
    discriminator: object | None
    """Token relevance model; None unless `grpo.relevance` is `discriminator` (and `token_weight` != 0)."""
    generator: torch.Generator
    """Draws of the `random` relevance ablation."""
    ranks: Ranks = Ranks()
    """This process's place among `grpo.nproc` data-parallel processes."""


def grpo_step(
    cfg: Config, run_id: str, round_: int, step: int, learner: Learner, prompts: list[dict], rubrics: dict
) -> dict[str, list]:
    """One RTT-GRPO step on `prompts`; returns the rows it produced, by table. Data-parallel
    (`learner.ranks`), `prompts` are this process's block and rank 0 returns every process's rows
    (the others: none)."""
    g = cfg.grpo
    clock = Clock()
    engine, tokenizer = learner.engine, learner.tokenizer
    samples = engine.sample(
        learner.model,
        tokenizer,
        [conversation(p) for p in prompts],
        g.group_size,
        g.max_new_tokens,
        g.temperature,
        g.top_p,
        seed=cfg.seed + 1_000_003 * (round_ + 1) + step + RANK_SEED_STRIDE * learner.ranks.rank,
        desc=f"grpo r{round_} s{step} sample",
    )
    rollouts = rollout_rows(run_id, round_, step, learner.policy_name, prompts, samples)
    clock.lap("sample")
    clock.times["sync"] = engine.sync_s  # part of sample()'s time, reported apart
    clock.times["sample"] -= engine.sync_s

    items, verdict_rows, answers, v, weights, gold = judge_samples(
        learner.judge, run_id, round_, step, prompts, rubrics, samples, rollouts
    )
    clock.lap("judge")

    responses = [s.token_ids for s in samples]
    rel = torch.zeros_like(gold)  # [N, K, T]; unused when token_weight is 0 (plain GRPO)
    if g.token_weight != 0:
        rel = relevance(
            g.relevance,
            gold=gold,
            item_texts=[[i.text for i in its] for its in items],
            responses=responses,
            discriminator=learner.discriminator,
            tokenizer=tokenizer,
            instruction=cfg.discriminator.instruction,
            batch_size=cfg.discriminator.score_batch_size,
            pack_length=cfg.discriminator.pack_length,
            generator=learner.generator,
        )  # [N, K, T]
    clock.lap("score")

    batch = pack([s.prompt_token_ids for s in samples], responses, tokenizer.pad_token_id)
    mask = batch.response_mask  # [N, T]
    rewards = response_rewards(v, g.reward_mode, weights)  # [N]
    adv_res = response_advantages(rewards, g.group_size, g.scale)  # [N]
    adv_tok = (
        token_advantages(v, gate(rel, g.relevance_threshold), mask, g.group_size, g.token_norm)
        if g.token_weight != 0
        else torch.zeros(mask.shape)
    )  # [N, T]
    adv = combine_advantages(adv_res, adv_tok, mask, g.combine, g.token_weight)  # [N, T]
    clock.lap("advantage")

    stats = learner.trainer.update(
        batch, adv, pad_logprobs([s.logprobs for s in samples], mask.shape[1])
    )  # sampler's [N, T]
    clock.lap("update")

    for i, (row, s) in enumerate(zip(rollouts, samples)):
        row.update(
            reward=float(rewards[i]), adv_response=float(adv_res[i]), adv_tokens=adv[i, : len(s.token_ids)].tolist()
        )
    scores = (
        []
        if g.token_weight == 0
        else [
            {
                "run_id": run_id,
                "rollout_id": r["rollout_id"],
                "item_id": item.item_id,
                "round": round_,
                "step": step,
                "source": g.relevance,
                "relevance": rel[i, j, : len(samples[i].token_ids)].tolist(),
            }
            for i, (r, its) in enumerate(zip(rollouts, items))
            for j, item in enumerate(its)
        ]
    )
    tables = {
        "rollouts": rollouts,
        "verdicts": [r for rows in verdict_rows for r in rows],
        "token_scores": scores,
        "llm_calls": call_rows(run_id, "grpo", round_, step, cfg.judge.llm.model, answers),
    }
    every_rank = gather((tables, (rewards, v, adv_res, adv_tok, mask)), learner.ranks)
    if every_rank is None:
        return {}
    tables = {name: [row for part, _ in every_rank for row in part[name]] for name in tables}
    metric_inputs = concat_ranks([inputs for _, inputs in every_rank])
    metrics = step_metrics(*metric_inputs, stats, clock.times, g.group_size)
    step_row = {
        "run_id": run_id,
        "round": round_,
        "step": step,
        "global_step": global_step(cfg, round_, step),
        **metrics,
    }
    return tables | {"train_steps": [step_row]}


def save_state(state_dir, learner: Learner, next_step: int) -> None:
    """The resumable state of a GRPO stage, written atomically by rank 0: the policy and trainer
    (equal on every rank) and every rank's RNG."""
    generators = gather(learner.generator.get_state(), learner.ranks)
    if learner.ranks.leader:
        with atomic_dir(state_dir) as tmp:
            learner.model.save_pretrained(tmp / "policy")
            learner.tokenizer.save_pretrained(tmp / "policy")
            state = {"trainer": learner.trainer.state_dict(), "generators": generators, "next_step": next_step}
            torch.save(state, tmp / "trainer.pt")
    barrier(learner.ranks)


def resume_step(state_dir) -> int:
    """The step a GRPO stage continues from: its saved state's, or 0 (memory-mapped: the optimizer
    state is not read)."""
    path = state_dir / "trainer.pt"
    return torch.load(path, weights_only=True, mmap=True)["next_step"] if path.exists() else 0


def load_state(state_dir, trainer: PolicyTrainer, generator: torch.Generator, rank: int = 0) -> int:
    """Restore the trainer and this rank's RNG from `save_state`; returns the step to continue from."""
    state = torch.load(state_dir / "trainer.pt", weights_only=True)
    trainer.load_state_dict(state["trainer"])
    generator.set_state((state.get("generators") or [state["generator"]])[rank])  # "generator": saved before nproc
    return state["next_step"]


def train(ctx: StageContext, ranks: Ranks) -> int:
    """The round's GRPO steps from where a saved state left off, then the policy checkpoint: in
    this process, or as one of `grpo.nproc` data-parallel processes (rank 0 writes). Returns the
    step it started at."""
    cfg, store, run_id, round_ = ctx.cfg, ctx.store, ctx.run_id, ctx.round
    g = cfg.grpo
    device = rank_device(resolve_device(cfg.model.device), ranks)
    policy_name = starting_policy(cfg, store, run_id, round_)
    state_dir = grpo_state_dir(store, run_id, round_)
    resuming = (state_dir / "trainer.pt").exists()
    tokenizer = load_tokenizer(policy_name)
    model = load_causal_lm(str(state_dir / "policy") if resuming else policy_name, device, cfg.model.dtype)
    ref_model = load_causal_lm(policy_name, device, cfg.model.dtype).eval() if g.beta > 0 else None
    discriminator = None
    if g.relevance == "discriminator" and g.token_weight != 0:
        discriminator = load_discriminator(str(discriminator_dir(store, run_id, round_)), discriminator_device(cfg))
    trainer = PolicyTrainer(model, g, device, ref_model, seed=cfg.seed + round_, ranks=ranks)
    generator = torch.Generator().manual_seed(cfg.seed + round_ + RANK_SEED_STRIDE * ranks.rank)
    first = load_state(state_dir, trainer, generator, ranks.rank) if resuming else 0
    if resuming:
        log.info("grpo round %d: resuming at step %d from %s", round_, first, state_dir)
    prompts = load_prompts(store, run_id, "train")
    rubrics = load_rubrics(store, run_id)
    learner = Learner(
        policy_name,
        model,
        tokenizer,
        trainer,
        engine_for(cfg, policy_name, g.prompts_per_step * g.group_size),
        Judge.for_run(cfg),
        discriminator,
        generator,
        ranks,
    )
    for step in range(first, g.steps):
        batch_prompts = pick_prompts(prompts, g.prompts_per_step, global_step(cfg, round_, step) * g.prompts_per_step)
        tables = grpo_step(cfg, run_id, round_, step, learner, block(batch_prompts, ranks), rubrics)
        if tables:
            write_step(ctx, step, tables)
        if g.save_every and (step + 1) % g.save_every == 0 and step + 1 < g.steps:
            save_state(state_dir, learner, step + 1)
    if ranks.leader:
        save_pretrained_atomic(model, tokenizer, policy_dir(store, run_id, round_))
    barrier(ranks)
    return first


def write_step(ctx: StageContext, step: int, tables: dict[str, list]) -> None:
    """A step's rows to the lake, its metrics to MLflow and the log."""
    for table, rows in tables.items():
        if rows:
            ctx.store.write(table, rows, ctx.run_id, step_part(ctx.round, step))
    metrics = row_metrics(tables["train_steps"][0])
    ctx.tracker.log_metrics(metrics, step=global_step(ctx.cfg, ctx.round, step))
    log.info(
        "grpo round %d step %d: reward %.3f, item pass rate %.3f, |A_tok| %.3f, %.1f s",
        ctx.round,
        step,
        metrics["reward_mean"],
        metrics["item_pass_rate"],
        metrics["adv_token_abs"],
        metrics["t_total"],
    )


def row_metrics(row: dict) -> dict:
    """A `train_steps` row's metrics: all but its keys."""
    return {k: v for k, v in row.items() if k not in ("run_id", "round", "step", "global_step")}


def train_on_ranks(ctx: StageContext) -> int:
    """`train` in `grpo.nproc` processes started by torchrun (this process waits); then the metrics
    of every step of the round, which the processes wrote to `train_steps`, to this stage's MLflow
    run (a resumed stage's run gets the steps of the attempt that died too). Returns the step the
    processes started at."""
    cfg, store = ctx.cfg, ctx.store
    first = resume_step(grpo_state_dir(store, ctx.run_id, ctx.round))
    # a built-in policy is built (or converted) here, once, rather than by N processes at once
    starting_policy(cfg, store, ctx.run_id, ctx.round)
    launch(ctx, "grpo", "rtt.grpo.stage", cfg.grpo.nproc, grpo_state_dir(store, ctx.run_id, ctx.round))
    for row in sorted(store.rows("train_steps", ctx.run_id), key=lambda r: r["step"]):
        if row["round"] == ctx.round:
            ctx.tracker.log_metrics(row_metrics(row), step=row["global_step"])
    return first


def run_grpo(ctx: StageContext) -> dict:
    cfg, store, run_id, round_ = ctx.cfg, ctx.store, ctx.run_id, ctx.round
    g = cfg.grpo
    first = train_on_ranks(ctx) if g.nproc > 1 else train(ctx, Ranks())
    out = policy_dir(store, run_id, round_)
    shutil.rmtree(grpo_state_dir(store, run_id, round_), ignore_errors=True)
    ctx.tracker.set_tags({"policy_checkpoint": str(out)})
    last = store.rows("rollouts", run_id, step_part(round_, g.steps - 1))[: g.group_size]  # one group
    page = store.run_dir(run_id) / f"relevance_round{round_}.html"
    page.write_text(
        render_html(
            store, [r["rollout_id"] for r in last], f"Token relevance: run {run_id}, round {round_}, step {g.steps - 1}"
        )
    )
    ctx.tracker.log_artifact(page)
    history = sorted((r for r in store.rows("train_steps", run_id) if r["round"] == round_), key=lambda r: r["step"])
    return {
        "steps": g.steps,
        "resumed_at": first,
        "checkpoint": str(out),
        "reward_first": round(history[0]["reward_mean"], 4),
        "reward_last": round(history[-1]["reward_mean"], 4),
        "seconds": round(sum(h["t_total"] for h in history), 1),
    }


if __name__ == "__main__":  # one of `grpo.nproc` processes: python -m rtt.grpo.stage CONFIG RUN_ID ROUND
    rank_main(train)
