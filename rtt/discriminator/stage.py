"""Discriminator stage: train the token relevance model on the round's judged rollouts.

Labels come from the verdicts' evidence spans, already mapped onto the policy's token ids
(`verdicts.token_labels`): the rule checkers' spans, and the LLM judge's located quotes when
`judge.quotes` is on. Only known verdicts are used. The held-out split is by prompt.
Training checkpoints to `disc_state/round_<r>/`; re-running an interrupted stage resumes there.
The stage logs `discriminator_round<r>.html` to MLflow: held-out pairs, one per item kind first,
with the gold labels and the trained model's relevance shaded token by token.
"""

from __future__ import annotations

import shutil

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
from rtt.detokenize import decode_with_offsets
from rtt.discriminator.model import (
    discriminator_device,
    init_discriminator,
    load_discriminator,
)
from rtt.discriminator.score import score_relevance
from rtt.discriminator.train import Pair, split_by_prompt, train_discriminator
from rtt.models import load_tokenizer
from rtt.relevance_view import render_labels_html
from rtt.stage_context import StageContext
from rtt.tracking import registered_model_name

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
            Pair(v["prompt_id"], item.label, item.text, rollouts[v["rollout_id"]]["token_ids"], v["token_labels"])
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


def label_examples(model, tokenizer, cfg: Config, pairs: list[Pair], n: int = 12) -> list[tuple]:
    """Up to n pairs, one per item kind first, as (kind, item, token pieces, gold, predicted)."""
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
        examples.append(
            (p.kind, p.item_text, [text[s:e] for s, e in offsets], p.labels, row[0, : len(p.labels)].tolist())
        )
    return examples


def run_discriminator(ctx: StageContext) -> dict:
    cfg, store, tracker, run_id, round_ = ctx.cfg, ctx.store, ctx.tracker, ctx.run_id, ctx.round
    pairs = training_pairs(store, run_id, round_, llm_labels=cfg.judge.quotes)
    if not pairs:
        raise FileNotFoundError(
            f"discriminator: no labelled (response, item) pairs for run {run_id} round {round_}: run "
            "rollouts and judge first; LLM verdicts carry labels only with judge.quotes=true"
        )
    device = discriminator_device(cfg)
    tokenizer = load_tokenizer(starting_policy(cfg, store, run_id, round_))
    model = initial_model(cfg, store, run_id, round_, device)
    train, heldout = split_by_prompt(pairs, cfg.discriminator.eval_fraction, cfg.seed)

    def on_eval(history: list[dict]) -> None:
        store.write(
            "disc_metrics",
            [{**{c: row.get(c) for c in COLUMNS}, "run_id": run_id, "round": round_} for row in history],
            run_id,
            round_part(round_),
        )
        overall = next(r for r in reversed(history) if r["kind"] == "all")
        tracker.log_metrics(
            {f"disc_{k}": overall[k] for k in ("loss", "precision", "recall", "f1", "auroc", "ece")},
            step=overall["opt_step"],
        )

    def on_step(opt_step: int, loss: float) -> None:
        tracker.log_metrics({"disc_train_loss": loss}, step=opt_step)

    state_dir = disc_state_dir(store, run_id, round_)
    history = train_discriminator(
        model,
        tokenizer,
        train,
        heldout,
        cfg.discriminator,
        device,
        seed=cfg.seed,
        on_eval=on_eval,
        on_step=on_step,
        state_dir=state_dir,
    )
    out = save_pretrained_atomic(model, tokenizer, discriminator_dir(store, run_id, round_))
    shutil.rmtree(state_dir, ignore_errors=True)
    tracker.set_tags({"discriminator_checkpoint": str(out)})
    page = store.run_dir(run_id) / f"discriminator_round{round_}.html"
    page.write_text(
        render_labels_html(
            f"Discriminator vs gold labels: run {run_id}, round {round_}, held-out prompts",
            label_examples(model, tokenizer, cfg, heldout or train),
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
    positives = sum(sum(p.labels) for p in pairs)
    tokens = sum(len(p.labels) for p in pairs)
    return {
        "pairs_train": len(train),
        "pairs_heldout": len(heldout),
        "positive_token_frac": round(positives / max(tokens, 1), 3),
        **{f"heldout_{k}": round(final[k], 4) for k in ("loss", "precision", "recall", "f1", "auroc") if k in final},
        "checkpoint": str(out),
    }
