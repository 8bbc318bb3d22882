"""Train the token-level relevance discriminator on labelled (response, item) pairs.

METHOD.md section 7. Loss: binary cross-entropy with logits over the labelled response tokens only
(the instruction/item prefix and the padding carry no loss), positives weighted by `pos_weight`,
averaged over the labelled tokens of an optimizer step (so gradient accumulation equals one big
batch). AdamW, linear warm-up then cosine decay, gradient clipping at 1.0, bf16 autocast on CUDA.
With `train_layers` only the head, the final norm and the top layers are trained (`freeze_lower_layers`).

Batches are built by length: each epoch the pairs are shuffled, sorted by length (ties stay in
shuffled order), cut into micro-batches and the micro-batches shuffled, all from `seed`. A
micro-batch's inputs are packed into rows of at most `pack_length` tokens, exactly as for scoring
(`model.bin_pack`). Inputs longer than `max_input_tokens(model)` (2048) are cut from the response
end; the cut tokens get no loss.

After every epoch (and at the end when `max_steps` stops a run mid-epoch) the held-out pairs are
evaluated: loss and `token_metrics`, overall and per item kind. Early stopping: training stops once
the held-out loss has not improved for `patience` evaluations (0 disables it), and the weights of
the best evaluation are restored at the end.

Checkpoint and resume: given a `state_dir`, the whole training state (weights, optimizer,
scheduler, every rank's RNG, position in the epoch's batch plan, best weights, evaluation history,
every step's training loss) is written there atomically every `save_every` optimizer steps and
after every evaluation. A later call with the same `state_dir` continues from it and ends with the
same weights as an uninterrupted run.

Data-parallel (`ranks`, `discriminator.nproc`; rtt/data_parallel.py): every rank builds the same
pairs and batch plan from `seed` and starts from rank 0's weights. Rank r runs every world-th pair
of each micro-batch; its loss is taken against the step's labelled tokens on all ranks, and the
gradients are summed over ranks before clipping and AdamW, so every replica takes the one-process
step. Each rank draws its own dropout masks (the head's dropout; the seed is offset per rank), so
N processes do not draw one process's masks; without dropout they end with its weights up to float
rounding (tests/discriminator/test_data_parallel.py). The held-out pairs are split the same way:
each rank evaluates every world-th one and rank 0 gathers the tokens and computes the metrics, so
the held-out set is evaluated once, not N times over. Rank 0 decides early stopping and tells the
others, so no rank can stop alone and leave the others waiting in a collective. Rank 0 alone saves
the state and calls `on_eval` and `on_step`.
"""

from __future__ import annotations

import hashlib
import json
import math
import random
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from tqdm.auto import tqdm

from rtt.checkpoints import atomic_dir
from rtt.config import DiscriminatorConfig
from rtt.data_parallel import RANK_SEED_STRIDE, Ranks, all_sum, broadcast_weights, from_leader, gather, sum_gradients
from rtt.discriminator.metrics import token_metrics
from rtt.discriminator.model import (
    bin_pack,
    build_input,
    forward_logits,
    max_input_tokens,
    packed_inputs,
)
from rtt.models import freeze_lower_layers

GRAD_CLIP = 1.0


@dataclass
class Pair:
    prompt_id: str
    kind: str
    item_text: str
    response_ids: list[int]
    labels: list[int]
    """0/1 per response token, aligned to response_ids."""
    verdict: int = 0
    """The judge's verdict on the item: +1 satisfied, -1 violated (0: not given)."""


@dataclass
class Encoded:
    ids: list[int]
    start: int
    labels: list[int]
    """Labels of the response tokens that survived truncation: ids[start:start + len(labels)]."""
    kind: str


@dataclass
class Evaluation:
    loss: float
    """Mean (pos-weighted) BCE over all labelled tokens."""
    probs: np.ndarray
    labels: np.ndarray
    kinds: np.ndarray
    token_losses: np.ndarray
    """Per labelled token: prob, 0/1 label, item kind and BCE, in the same order."""


def split_by_prompt(pairs: list[Pair], eval_fraction: float, seed: int) -> tuple[list[Pair], list[Pair]]:
    """(train, heldout) split by prompt id: round(eval_fraction * prompts) prompts are held out,
    at least one when eval_fraction > 0 and there are >= 2 prompts, and never all of them. Which
    prompts is fixed by a hash of (seed, prompt id), independent of the order of `pairs`."""
    prompts = sorted({p.prompt_id for p in pairs})
    n_held = round(eval_fraction * len(prompts))
    if eval_fraction > 0 and len(prompts) >= 2:
        n_held = min(max(n_held, 1), len(prompts) - 1)
    ranked = sorted(prompts, key=lambda pid: hashlib.sha256(f"{seed}:{pid}".encode()).hexdigest())
    held = set(ranked[:n_held])
    return [p for p in pairs if p.prompt_id not in held], [p for p in pairs if p.prompt_id in held]


def encode(tokenizer, instruction: str, pair: Pair, limit: int) -> Encoded:
    if len(pair.labels) != len(pair.response_ids):
        raise ValueError(f"{len(pair.labels)} labels for {len(pair.response_ids)} response tokens")
    ids, start = build_input(tokenizer, instruction, pair.item_text, pair.response_ids)
    ids = ids[:limit]
    return Encoded(ids, start, list(pair.labels[: max(len(ids) - start, 0)]), pair.kind)


def length_batches(lengths: list[int], batch_size: int, rng: random.Random) -> list[list[int]]:
    """Indices grouped into micro-batches of similar length, in shuffled batch order."""
    order = list(range(len(lengths)))
    rng.shuffle(order)
    order.sort(key=lambda i: lengths[i])  # stable: equal lengths keep the shuffled order
    batches = [order[b : b + batch_size] for b in range(0, len(order), batch_size)]
    rng.shuffle(batches)
    return batches


def packed_bins(rows: list[Encoded], pack_length: int) -> list[list[Encoded]]:
    return [[rows[j] for j in members] for members in bin_pack([len(r.ids) for r in rows], pack_length)]


def collate(bins: list[list[Encoded]], pad_id: int):
    """(ids, position ids, labels, loss mask), all [B, L]: each bin packed into one row, as for
    scoring; the loss mask marks labelled tokens (row-major order: bin by bin, input by input)."""
    ids, positions, starts = packed_inputs([[r.ids for r in rows] for rows in bins], pad_id)  # [B, L]
    labels = torch.zeros(ids.shape, dtype=torch.float32)  # [B, L]
    loss_mask = torch.zeros(ids.shape, dtype=torch.bool)  # [B, L]
    for b, (rows, columns) in enumerate(zip(bins, starts)):
        for r, column in zip(rows, columns):
            first = column + r.start
            labels[b, first : first + len(r.labels)] = torch.tensor(r.labels, dtype=torch.float32)
            loss_mask[b, first : first + len(r.labels)] = True
    return ids, positions, labels, loss_mask


def token_bce(logits: torch.Tensor, labels: torch.Tensor, pos_weight: float) -> torch.Tensor:
    """Per-token BCE with logits, positives weighted by pos_weight; same shape as logits."""
    weight = torch.tensor(pos_weight, dtype=logits.dtype, device=logits.device)
    return F.binary_cross_entropy_with_logits(logits, labels.to(logits.device), pos_weight=weight, reduction="none")


@torch.no_grad()
def evaluate(model, tokenizer, pairs: list[Pair], cfg: DiscriminatorConfig, device=None) -> Evaluation:
    """Held-out loss and per-token probabilities, labels and kinds (device: where the model is)."""
    limit = max_input_tokens(model)
    rows = [encode(tokenizer, cfg.instruction, p, limit) for p in pairs]
    rows = [r for r in rows if r.labels]
    was_training = model.training
    model.eval()
    probs, labels, kinds, losses = [], [], [], []
    bins = packed_bins(rows, cfg.pack_length)
    for b in range(0, len(bins), cfg.score_batch_size):
        chunk = bins[b : b + cfg.score_batch_size]
        ids, positions, y, loss_mask = collate(chunk, model.config.pad_token_id)
        logits = forward_logits(model, ids, positions).cpu()  # [B, L]
        bce = token_bce(logits, y, cfg.pos_weight)  # [B, L]
        probs.append(torch.sigmoid(logits)[loss_mask].numpy())
        labels.append(y[loss_mask].numpy().astype(np.int64))
        losses.append(bce[loss_mask].numpy())
        kinds.extend(r.kind for members in chunk for r in members for _ in r.labels)  # row-major, like the mask
    model.train(was_training)
    return evaluation_of(probs, labels, kinds, losses)


def evaluation_of(probs: list, labels: list, kinds: list[str], losses: list) -> Evaluation:
    """An Evaluation from its tokens' pieces, in order: arrays of probabilities, labels and losses,
    and the kinds one by one."""
    token_losses = np.concatenate(losses) if losses else np.zeros(0, dtype=np.float32)
    return Evaluation(
        loss=float(token_losses.mean()) if token_losses.size else float("nan"),
        probs=np.concatenate(probs) if probs else np.zeros(0, dtype=np.float32),
        labels=np.concatenate(labels) if labels else np.zeros(0, dtype=np.int64),
        kinds=np.array(kinds, dtype=object),
        token_losses=token_losses,
    )


def evaluate_shares(model, tokenizer, pairs: list[Pair], cfg: DiscriminatorConfig, device, ranks: Ranks):
    """`evaluate` of `pairs` with each rank evaluating every world-th pair: rank 0 gets the
    evaluation of all of them (rank by rank), the other ranks None."""
    parts = gather(evaluate(model, tokenizer, pairs[ranks.rank :: ranks.world], cfg, device), ranks)
    if parts is None:
        return None
    return evaluation_of(
        [p.probs for p in parts],
        [p.labels for p in parts],
        [k for p in parts for k in p.kinds],
        [p.token_losses for p in parts],
    )


def metric_rows(evaluation: Evaluation, epoch: float, opt_step: int, split: str = "heldout") -> list[dict]:
    """One metrics dict for all tokens, then one per item kind (sorted)."""
    rows = []
    for kind in ["all", *sorted(set(evaluation.kinds))]:
        sel = np.ones(evaluation.kinds.size, dtype=bool) if kind == "all" else evaluation.kinds == kind
        metrics = token_metrics(evaluation.probs[sel], evaluation.labels[sel])
        loss = float(evaluation.token_losses[sel].mean()) if sel.any() else float("nan")
        rows.append({"split": split, "epoch": epoch, "opt_step": opt_step, "kind": kind, "loss": loss, **metrics})
    return rows


def fingerprint(cfg: DiscriminatorConfig, rows: list[Encoded], seed: int) -> str:
    """What a saved training state must match to be resumed: settings, seed and training data."""
    # these leave the trajectory alone (nproc: but for float rounding), so a state resumes under any of them
    settings = cfg.model_dump(exclude={"save_every", "score_batch_size", "nproc"})
    digest = hashlib.sha256(json.dumps([settings, seed], sort_keys=True).encode())
    for r in rows:
        digest.update(json.dumps([r.ids, r.labels]).encode())
    return digest.hexdigest()


def save_state(
    state_dir: Path, model, optimizer, scheduler, progress: dict, best_state: dict | None, rngs: list
) -> None:
    """The resumable training state, written atomically (a crash mid-write keeps the previous one);
    `rngs`: every rank's torch RNG state (the dropout masks' stream), in rank order."""
    with atomic_dir(state_dir) as tmp:
        torch.save(
            {
                "model": model.state_dict(),
                "optimizer": optimizer.state_dict(),
                "scheduler": scheduler.state_dict(),
                "torch_rngs": rngs,
                "best_state": best_state,
            },
            tmp / "state.pt",
        )
        (tmp / "progress.json").write_text(json.dumps(progress))


def load_state(
    state_dir: Path | None, key: str, model, optimizer, scheduler, rank: int = 0
) -> tuple[dict, dict | None]:
    """(progress, best weights): restored from `state_dir` when it holds a state saved under the
    same fingerprint `key` (another one is an error), else those of a fresh start. Rank `rank`'s
    torch RNG is restored too (a rank the saved state did not have keeps its fresh one)."""
    progress = {
        "fingerprint": key,
        "opt_step": 0,
        "epoch": 0,
        "micro": 0,
        "best_loss": math.inf,
        "stale": 0,
        "stopped": False,
        "history": [],
        "train_loss": [],
    }
    if state_dir is None or not (state_dir / "progress.json").exists():
        return progress, None
    saved = json.loads((state_dir / "progress.json").read_text())
    if saved["fingerprint"] != key:
        raise ValueError(
            f"{state_dir}: a saved discriminator training state for other settings or data; "
            "delete the folder to start over"
        )
    state = torch.load(state_dir / "state.pt", weights_only=True)
    model.load_state_dict(state["model"])
    optimizer.load_state_dict(state["optimizer"])
    scheduler.load_state_dict(state["scheduler"])
    rngs = state.get("torch_rngs") or [state["torch_rng"]]  # "torch_rng": saved before nproc
    if rank < len(rngs):
        torch.set_rng_state(rngs[rank])
    saved.setdefault("train_loss", [])  # saved before it was kept
    return saved, state["best_state"]


def saved_train_loss(state_dir: Path) -> list[tuple[int, float]]:
    """(optimizer step, training loss) of every step a saved training state has been through."""
    path = state_dir / "progress.json"
    return [tuple(x) for x in json.loads(path.read_text()).get("train_loss", [])] if path.exists() else []


def optimizer_step(
    model,
    step_batches: list[list[Encoded]],
    cfg: DiscriminatorConfig,
    trainable,
    optimizer,
    scheduler,
    ranks: Ranks,
) -> float:
    """One optimizer step over `grad_accum` micro-batches; the loss is the mean BCE over all their
    labelled tokens, as if they were one batch. Returns that loss. Data-parallel, `step_batches` is
    the global step: this rank runs every world-th pair of each micro-batch, and the gradients and
    the loss are summed over ranks."""
    device = next(model.parameters()).device
    n_labelled = sum(len(r.labels) for batch in step_batches for r in batch)  # all ranks' pairs
    step_loss = 0.0
    for batch in step_batches:
        mine = batch[ranks.rank :: ranks.world]
        if not mine:  # fewer pairs than ranks: this rank adds zero gradients to the sum
            continue
        ids, positions, y, loss_mask = collate(packed_bins(mine, cfg.pack_length), model.config.pad_token_id)
        logits = forward_logits(model, ids, positions)  # [B, L]
        bce = token_bce(logits, y, cfg.pos_weight)  # [B, L]
        loss = bce[loss_mask.to(device)].sum() / n_labelled
        loss.backward()
        step_loss += loss.item()
    sum_gradients(trainable, ranks)
    torch.nn.utils.clip_grad_norm_(trainable, GRAD_CLIP)
    optimizer.step()
    scheduler.step()
    optimizer.zero_grad(set_to_none=True)
    return float(all_sum(torch.tensor(step_loss, dtype=torch.float64), ranks))


def train_discriminator(
    model,
    tokenizer,
    train: list[Pair],
    heldout: list[Pair],
    cfg: DiscriminatorConfig,
    device,
    seed: int = 0,
    on_eval=None,
    on_step=None,
    state_dir: str | Path | None = None,
    ranks: Ranks | None = None,
) -> list[dict]:
    """Train in place; returns every held-out evaluation's metric rows.

    on_eval(history) is called after each evaluation with all rows so far (those of a resumed run
    included); on_step(opt_step, loss) after each optimizer step. With `state_dir`, training
    checkpoints there and resumes from it (see module docstring); the caller removes the folder once
    it has saved the trained model. As one of data-parallel `ranks`, every rank is given the same
    pairs; rank 0 returns the rows and ends with the best weights, the other ranks (which neither
    save nor call back) end with the last step's weights and return no rows of their own.
    """
    from transformers import get_cosine_schedule_with_warmup

    ranks = ranks or Ranks()
    device = torch.device(device)
    model.to(device)
    torch.manual_seed(seed + RANK_SEED_STRIDE * ranks.rank)  # the ranks' dropout masks differ
    rows = [encode(tokenizer, cfg.instruction, p, max_input_tokens(model)) for p in train]
    rows = [r for r in rows if r.labels]
    lengths = [len(r.ids) for r in rows]
    micro_per_epoch = math.ceil(len(rows) / cfg.batch_size)
    steps_per_epoch = math.ceil(micro_per_epoch / cfg.grad_accum)
    total_steps = cfg.epochs * steps_per_epoch
    if cfg.max_steps > 0:
        total_steps = min(total_steps, cfg.max_steps)
    if total_steps == 0:
        return []

    freeze_lower_layers(model, cfg.train_layers)
    trainable = [p for p in model.parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW(trainable, lr=cfg.lr, weight_decay=cfg.weight_decay)
    scheduler = get_cosine_schedule_with_warmup(optimizer, round(cfg.warmup_ratio * total_steps), total_steps)
    state_dir = Path(state_dir) if state_dir is not None else None
    progress, best_state = load_state(state_dir, fingerprint(cfg, rows, seed), model, optimizer, scheduler, ranks.rank)
    broadcast_weights(model, ranks)  # the replicas start equal (the optimizer states: all fresh, or all loaded)

    def checkpoint() -> None:
        if state_dir is None:
            return
        rngs = gather(torch.get_rng_state(), ranks)
        if ranks.leader:
            save_state(state_dir, model, optimizer, scheduler, progress, best_state, rngs)

    def record(evaluation: Evaluation, epoch: float) -> bool:
        """Rank 0's side of an evaluation: its rows, the best weights; True when early stopping says stop."""
        nonlocal best_state
        progress["history"].extend(metric_rows(evaluation, epoch, progress["opt_step"]))
        if evaluation.loss < progress["best_loss"]:
            progress["best_loss"], progress["stale"] = evaluation.loss, 0
            best_state = {k: v.detach().to("cpu", copy=True) for k, v in model.state_dict().items()}
        else:
            progress["stale"] += 1
        if on_eval is not None:
            on_eval(progress["history"])
        return cfg.patience > 0 and progress["stale"] >= cfg.patience

    def run_eval(epoch: float) -> bool:
        """Evaluate; True, on every rank, when early stopping says stop."""
        if not heldout:
            return False
        evaluation = evaluate_shares(model, tokenizer, heldout, cfg, device, ranks)  # None but on rank 0
        return from_leader(evaluation is not None and record(evaluation, epoch), ranks)

    rng = random.Random(seed)
    plans = [length_batches(lengths, cfg.batch_size, rng) for _ in range(cfg.epochs)]  # fixed by seed: resumable
    model.train()
    bar = tqdm(
        total=total_steps, initial=progress["opt_step"], desc="discriminator", unit="step", disable=not ranks.leader
    )
    stop = progress["stopped"]
    while not stop and progress["epoch"] < cfg.epochs and progress["opt_step"] < total_steps:
        batches = plans[progress["epoch"]]
        step_batches = [
            [rows[i] for i in batch] for batch in batches[progress["micro"] : progress["micro"] + cfg.grad_accum]
        ]
        step_loss = optimizer_step(model, step_batches, cfg, trainable, optimizer, scheduler, ranks)
        progress["opt_step"] += 1
        progress["micro"] += len(step_batches)
        progress["train_loss"].append((progress["opt_step"], step_loss))
        bar.update(1)
        bar.set_postfix(loss=f"{step_loss:.4f}", epoch=progress["epoch"])
        if on_step is not None and ranks.leader:
            on_step(progress["opt_step"], step_loss)
        epoch_done = progress["micro"] >= len(batches)
        if epoch_done or progress["opt_step"] >= total_steps:
            stop = run_eval(progress["epoch"] + progress["micro"] / len(batches))
            progress["stopped"] = stop
            if epoch_done:
                progress["epoch"], progress["micro"] = progress["epoch"] + 1, 0
            checkpoint()
        elif cfg.save_every and progress["opt_step"] % cfg.save_every == 0:
            checkpoint()
    bar.close()
    if best_state is not None and ranks.leader:
        model.load_state_dict(best_state)
    model.requires_grad_(True)
    model.eval()
    return progress["history"]
