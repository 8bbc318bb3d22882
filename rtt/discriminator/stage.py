"""Discriminator stage: train the token relevance model on the round's judged rollouts.

Labels come from the verdicts' evidence spans, already mapped onto the policy's token ids
(`verdicts.token_labels`): the rule checkers' spans, and the LLM judge's located quotes when
`judge.quotes` is on. Only known verdicts are used. The held-out split is by prompt.
Training checkpoints to `disc_state/round_<r>/`; re-running an interrupted stage resumes there.
With `discriminator.nproc` > 1 it trains in that many data-parallel processes started by torchrun
(this module's `__main__` is one of them); rank 0 writes, and the stage reads back what it wrote.
The stage logs `discriminator_round<r>.html` to MLflow: held-out pairs, one per item kind first,
with the gold labels and the trained model's relevance shaded token by token.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass

import torch

from rtt.checkpoints import (
    base_policy,
    disc_state_dir,
    discriminator_dir,
    save_pretrained_atomic,
    starting_policy,
)
from rtt.config import Config
from rtt.data.items import load_rubrics
from rtt.data.partitions import round_part
from rtt.data.schemas import SCHEMAS
from rtt.data.store import Store
from rtt.data_parallel import Ranks, barrier
from rtt.detokenize import decode_with_offsets
from rtt.discriminator.model import (
    discriminator_device,
    init_discriminator,
    load_discriminator,
)
from rtt.discriminator.score import score_relevance
from rtt.discriminator.train import Pair, saved_train_loss, split_by_prompt, train_discriminator
from rtt.models import load_tokenizer
from rtt.relevance_view import LabelExample, render_labels_html
from rtt.stage_context import StageContext
from rtt.torchrun import launch, rank_device, rank_main
from rtt.tracking import Tracker, registered_model_name

COLUMNS = SCHEMAS["disc_metrics"].names


def training_pairs(store: Store, run_id: str, round_: int, llm_labels: bool = False) -> list[Pair]:
    """The labelled (response, item) pairs of a round: known rule verdicts, and known LLM verdicts
    when the LLM judge was asked for quotes (`llm_labels`; without quotes an LLM verdict has no
    evidence, and its all-zero labels would teach the model that nothing was relevant)."""
    rollouts = {r["rollout_id"]: r for r in store.rows("rollouts", run_id, round_part(round_))}
    items = {i.item_id: i for its in load_rubrics(store, run_id).values() for i in its}
    pairs = []
    for v in store.rows("verdicts", run_id, round_part(round_)):
        if v["verdict"] == 0 or v["rollout_id"] not in rollouts or (v["judge"] != "rule" and not llm_labels):
            continue
        item = items[v["item_id"]]
        pairs.append(
            Pair(
                v["prompt_id"],
                item.label,
                item.text,
                rollouts[v["rollout_id"]]["token_ids"],
                v["token_labels"],
                v["verdict"],
            )
        )
    return pairs


def initial_model(cfg: Config, store: Store, run_id: str, round_: int, device):
    """Round 0 starts from the configured backbone; later rounds continue from the previous discriminator."""
    previous = discriminator_dir(store, run_id, round_ - 1)
    if round_ > 0 and (previous / "config.json").exists():
        return load_discriminator(str(previous), device)
    return init_discriminator(
        base_policy(cfg) if cfg.discriminator.backbone == "policy" else cfg.discriminator.backbone, device
    )


def label_examples(model, tokenizer, cfg: Config, pairs: list[Pair], n: int = 12) -> list[LabelExample]:
    """Up to n pairs, one per item kind first, with the discriminator's scores."""
    first_of_kind = {}
    for i, p in enumerate(pairs):
        first_of_kind.setdefault(p.kind, i)
    firsts = set(first_of_kind.values())
    order = sorted(range(len(pairs)), key=lambda i: i not in firsts)  # stable: one per kind, then the rest
    chosen = [pairs[i] for i in order[:n]]
    scores = score_relevance(
        model,
        tokenizer,
        cfg.discriminator.instruction,
        [[p.item_text] for p in chosen],
        [p.response_ids for p in chosen],
        cfg.discriminator.score_batch_size,
        cfg.discriminator.pack_length,
    )  # [n, 1, T]
    examples = []
    for p, row in zip(chosen, scores):
        text, offsets = decode_with_offsets(tokenizer, p.response_ids)
        pieces = [text[s:e] for s, e in offsets]
        examples.append(
            LabelExample(p.kind, p.item_text, p.verdict, pieces, p.labels, row[0, : len(p.labels)].tolist())
        )
    return examples


@dataclass
class Labelled:
    """A round's labelled pairs, and their split by prompt."""

    pairs: list[Pair]
    train: list[Pair]
    heldout: list[Pair]


def labelled(ctx: StageContext) -> Labelled:
    """The round's labelled pairs, split by prompt (none is an error: the stages before have not run)."""
    cfg = ctx.cfg
    pairs = training_pairs(ctx.store, ctx.run_id, ctx.round, llm_labels=cfg.judge.quotes)
    if not pairs:
        raise FileNotFoundError(
            f"discriminator: no labelled (response, item) pairs for run {ctx.run_id} round {ctx.round}: run "
            "rollouts and judge first; LLM verdicts carry labels only with judge.quotes=true"
        )
    return Labelled(pairs, *split_by_prompt(pairs, cfg.discriminator.eval_fraction, cfg.seed))


def log_evaluation(tracker: Tracker, overall: dict) -> None:
    """An evaluation's overall metric row to MLflow."""
    tracker.log_metrics(
        {f"disc_{k}": overall[k] for k in ("loss", "precision", "recall", "f1", "auroc", "ece")},
        step=overall["opt_step"],
    )


def fit(ctx: StageContext, ranks: Ranks, data: Labelled, tokenizer) -> tuple[torch.nn.Module, list[dict]]:
    """Train the round's discriminator from where a saved state left off, and save it: in this
    process, or as one of `discriminator.nproc` data-parallel processes (rank 0 writes). Returns the
    model and (on rank 0) every held-out evaluation's metric rows."""
    cfg, store, tracker, run_id, round_ = ctx.cfg, ctx.store, ctx.tracker, ctx.run_id, ctx.round
    device = rank_device(discriminator_device(cfg), ranks)
    model = initial_model(cfg, store, run_id, round_, device)

    def on_eval(history: list[dict]) -> None:
        store.write(
            "disc_metrics",
            [{**{c: row.get(c) for c in COLUMNS}, "run_id": run_id, "round": round_} for row in history],
            run_id,
            round_part(round_),
        )
        log_evaluation(tracker, next(r for r in reversed(history) if r["kind"] == "all"))

    def on_step(opt_step: int, loss: float) -> None:
        tracker.log_metrics({"disc_train_loss": loss}, step=opt_step)

    history = train_discriminator(
        model,
        tokenizer,
        data.train,
        data.heldout,
        cfg.discriminator,
        device,
        seed=cfg.seed,
        on_eval=on_eval,
        on_step=on_step,
        state_dir=disc_state_dir(store, run_id, round_),
        ranks=ranks,
    )
    if ranks.leader:
        save_pretrained_atomic(model, tokenizer, discriminator_dir(store, run_id, round_))
    barrier(ranks)
    return model, history


def train(ctx: StageContext, ranks: Ranks) -> None:
    """One of `discriminator.nproc` processes: `fit` on the round's pairs."""
    tokenizer = load_tokenizer(starting_policy(ctx.cfg, ctx.store, ctx.run_id, ctx.round))
    fit(ctx, ranks, labelled(ctx), tokenizer)


def train_on_ranks(ctx: StageContext) -> list[dict]:
    """`fit` in `discriminator.nproc` processes started by torchrun (this process waits); then, to
    this stage's MLflow run, what the one-process stage logs as it goes: every step's training loss,
    which rank 0 kept in the training state, and every evaluation's metrics, which it wrote to
    `disc_metrics` (a resumed stage's run gets those of the attempt that died too). Returns the
    evaluations' metric rows."""
    store, run_id, round_ = ctx.store, ctx.run_id, ctx.round
    state_dir = disc_state_dir(store, run_id, round_)
    launch(ctx, "discriminator", "rtt.discriminator.stage", ctx.cfg.discriminator.nproc, state_dir)
    for step, loss in saved_train_loss(state_dir):
        ctx.tracker.log_metrics({"disc_train_loss": loss}, step=step)
    history = sorted(store.rows("disc_metrics", run_id, round_part(round_)), key=lambda r: r["opt_step"])
    for row in history:
        if row["kind"] == "all":
            log_evaluation(ctx.tracker, row)
    return history


def run_discriminator(ctx: StageContext) -> dict:
    cfg, store, tracker, run_id, round_ = ctx.cfg, ctx.store, ctx.tracker, ctx.run_id, ctx.round
    data = labelled(ctx)
    # a built-in policy (the tokenizer's, and round 0's backbone) is built here, once, before any processes start
    tokenizer = load_tokenizer(starting_policy(cfg, store, run_id, round_))
    out = discriminator_dir(store, run_id, round_)
    if cfg.discriminator.nproc > 1:
        history = train_on_ranks(ctx)
        model = load_discriminator(str(out), discriminator_device(cfg))
    else:
        model, history = fit(ctx, Ranks(), data, tokenizer)
    shutil.rmtree(disc_state_dir(store, run_id, round_), ignore_errors=True)
    tracker.set_tags({"discriminator_checkpoint": str(out)})
    page = store.run_dir(run_id) / f"discriminator_round{round_}.html"
    split = "held-out prompts" if data.heldout else "training prompts (none held out)"
    page.write_text(
        render_labels_html(
            f"Discriminator vs the judge's evidence: run {run_id}, round {round_}, {split}",
            label_examples(model, tokenizer, cfg, data.heldout or data.train),
            held_out=bool(data.heldout),
        )
    )
    tracker.log_artifact(page)
    overall = [r for r in history if r["kind"] == "all"]
    final = min(overall, key=lambda r: r["loss"], default={})  # the kept weights; none without held-out prompts
    if cfg.registry:
        tracker.register_model(
            registered_model_name(run_id, "discriminator"),
            out,
            run_id,
            round_,
            "heldout_token_f1",
            final.get("f1"),
            final.get("n_tokens"),
            campaign=cfg.campaign,
        )
    positives = sum(sum(p.labels) for p in data.pairs)
    tokens = sum(len(p.labels) for p in data.pairs)
    return {
        "pairs_train": len(data.train),
        "pairs_heldout": len(data.heldout),
        "positive_token_frac": round(positives / max(tokens, 1), 3),
        **{f"heldout_{k}": round(final[k], 4) for k in ("loss", "precision", "recall", "f1", "auroc") if k in final},
        "checkpoint": str(out),
    }


if __name__ == "__main__":  # python -m rtt.discriminator.stage CONFIG RUN_ID ROUND, under torchrun
    rank_main(train)
