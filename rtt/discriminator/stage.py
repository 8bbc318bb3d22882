"""Discriminator stage: train the token relevance model on the round's judged rollouts.

Labels come from the verdicts' evidence spans, already mapped onto the policy's token ids
(`verdicts.token_labels`). Only known verdicts are used. The held-out split is by prompt.
Training checkpoints to `disc_state/round_<r>/`; re-running an interrupted stage resumes there.
"""

from __future__ import annotations

import shutil

from rtt.checkpoints import base_policy, disc_state_dir, discriminator_dir, save_pretrained_atomic, starting_policy
from rtt.config import Config
from rtt.data.schemas import SCHEMAS
from rtt.data.store import Store
from rtt.discriminator.model import discriminator_device, init_discriminator, load_discriminator
from rtt.discriminator.train import Pair, split_by_prompt, train_discriminator
from rtt.models import load_tokenizer
from rtt.rubrics.items import load_rubrics
from rtt.tracking import Tracker

COLUMNS = SCHEMAS["disc_metrics"].names


def training_pairs(store: Store, run_id: str, round_: int) -> list[Pair]:
    rollouts = {r["rollout_id"]: r for r in store.rows("rollouts", run_id, f"round{round_}")}
    items = {i.item_id: i for its in load_rubrics(store, run_id).values() for i in its}
    pairs = []
    for v in store.rows("verdicts", run_id, f"round{round_}"):
        if v["verdict"] == 0 or v["rollout_id"] not in rollouts:
            continue
        item = items[v["item_id"]]
        pairs.append(Pair(v["prompt_id"], item.label, item.text, rollouts[v["rollout_id"]]["token_ids"], v["token_labels"]))
    return pairs


def initial_model(cfg: Config, store: Store, run_id: str, round_: int, device):
    """Round 0 starts from the configured backbone; later rounds continue from the previous discriminator."""
    previous = discriminator_dir(store, run_id, round_ - 1)
    if round_ > 0 and (previous / "config.json").exists():
        return load_discriminator(str(previous), device)
    return init_discriminator(base_policy(cfg) if cfg.discriminator.backbone == "policy" else cfg.discriminator.backbone, device)


def run_discriminator(cfg: Config, store: Store, tracker: Tracker, run_id: str, round_: int) -> dict:
    pairs = training_pairs(store, run_id, round_)
    if not pairs:
        raise FileNotFoundError(f"discriminator: no judged rollouts for run {run_id} round {round_}: run rollouts and judge first")
    device = discriminator_device(cfg)
    tokenizer = load_tokenizer(starting_policy(cfg, store, run_id, round_))
    model = initial_model(cfg, store, run_id, round_, device)
    train, heldout = split_by_prompt(pairs, cfg.discriminator.eval_fraction, cfg.seed)

    def on_eval(history: list[dict]) -> None:
        store.write("disc_metrics", [{**{c: row.get(c) for c in COLUMNS}, "run_id": run_id, "round": round_}
                                     for row in history], run_id, f"round{round_}")
        overall = next(r for r in reversed(history) if r["kind"] == "all")
        tracker.log_metrics({f"disc_{k}": overall[k] for k in ("loss", "precision", "recall", "f1", "auroc", "ece")},
                            step=overall["opt_step"])

    def on_step(opt_step: int, loss: float) -> None:
        tracker.log_metrics({"disc_train_loss": loss}, step=opt_step)

    state_dir = disc_state_dir(store, run_id, round_)
    history = train_discriminator(model, tokenizer, train, heldout, cfg.discriminator, device, seed=cfg.seed,
                                  on_eval=on_eval, on_step=on_step, state_dir=state_dir)
    out = save_pretrained_atomic(model, tokenizer, discriminator_dir(store, run_id, round_))
    shutil.rmtree(state_dir, ignore_errors=True)
    tracker.set_tags({"discriminator_checkpoint": str(out)})
    overall = [r for r in history if r["kind"] == "all"]
    final = min(overall, key=lambda r: r["loss"], default={})  # the kept weights; none without held-out prompts
    positives = sum(sum(p.labels) for p in pairs)
    tokens = sum(len(p.labels) for p in pairs)
    return {"pairs_train": len(train), "pairs_heldout": len(heldout), "positive_token_frac": round(positives / max(tokens, 1), 3),
            **{f"heldout_{k}": round(final[k], 4) for k in ("loss", "precision", "recall", "f1", "auroc") if k in final},
            "checkpoint": str(out)}
