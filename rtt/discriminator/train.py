"""Train the token-level relevance discriminator on labelled (response, item) pairs.

METHOD.md section 7. Loss: binary cross-entropy with logits over the labelled response tokens only
(the instruction/item prefix and the padding carry no loss), positives weighted by `pos_weight`,
averaged over the labelled tokens of an optimizer step (so gradient accumulation equals one big
batch). AdamW, linear warm-up then cosine decay, gradient clipping at 1.0, bf16 autocast on CUDA.

Batches are built by length: each epoch the pairs are shuffled, sorted by length (ties stay in
shuffled order), cut into micro-batches and the micro-batches shuffled, all from `seed`. Rows are
right-padded. Inputs longer than `max_input_tokens(model)` (2048) are cut from the response end;
the cut tokens get no loss.

After every epoch (and at the end when `max_steps` stops a run mid-epoch) the held-out pairs are
evaluated: loss and `token_metrics`, overall and per item kind. Early stopping: training stops once
the held-out loss has not improved for `patience` evaluations (0 disables it), and the weights of
the best evaluation are restored at the end.
"""

from __future__ import annotations

import hashlib
import math
import random
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F
from tqdm.auto import tqdm

from rtt.config import DiscriminatorConfig
from rtt.discriminator.metrics import token_metrics
from rtt.discriminator.model import build_input, forward_logits, max_input_tokens, right_pad

GRAD_CLIP = 1.0


@dataclass
class Pair:
    prompt_id: str
    kind: str
    item_text: str
    response_ids: list[int]
    labels: list[int]
    """0/1 per response token, aligned to response_ids."""


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


def collate(rows: list[Encoded], pad_id: int) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    """(ids, attention mask, labels, loss mask), all [n, L]; the loss mask marks labelled tokens."""
    ids, mask = right_pad([r.ids for r in rows], pad_id)  # [n, L]
    labels = torch.zeros(ids.shape, dtype=torch.float32)  # [n, L]
    loss_mask = torch.zeros(ids.shape, dtype=torch.bool)  # [n, L]
    for i, r in enumerate(rows):
        labels[i, r.start : r.start + len(r.labels)] = torch.tensor(r.labels, dtype=torch.float32)
        loss_mask[i, r.start : r.start + len(r.labels)] = True
    return ids, mask, labels, loss_mask


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
    rows.sort(key=lambda r: len(r.ids))
    was_training = model.training
    model.eval()
    probs, labels, kinds, losses = [], [], [], []
    for b in range(0, len(rows), cfg.score_batch_size):
        batch = rows[b : b + cfg.score_batch_size]
        ids, mask, y, loss_mask = collate(batch, model.config.pad_token_id)
        logits = forward_logits(model, ids, mask).cpu()  # [n, L]
        bce = token_bce(logits, y, cfg.pos_weight)  # [n, L]
        probs.append(torch.sigmoid(logits)[loss_mask].numpy())
        labels.append(y[loss_mask].numpy().astype(np.int64))
        losses.append(bce[loss_mask].numpy())
        kinds.extend(r.kind for r in batch for _ in r.labels)  # row-major, like the boolean mask
    model.train(was_training)
    token_losses = np.concatenate(losses) if losses else np.zeros(0)
    return Evaluation(
        loss=float(token_losses.mean()) if token_losses.size else float("nan"),
        probs=np.concatenate(probs) if probs else np.zeros(0),
        labels=np.concatenate(labels) if labels else np.zeros(0, dtype=np.int64),
        kinds=np.array(kinds, dtype=object),
        token_losses=token_losses,
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


def train_discriminator(
    model,
    tokenizer,
    train: list[Pair],
    heldout: list[Pair],
    cfg: DiscriminatorConfig,
    device,
    seed: int = 0,
    on_eval=None,
) -> list[dict]:
    """Train in place; returns every held-out evaluation's metric rows (also passed to on_eval)."""
    from transformers import get_cosine_schedule_with_warmup

    device = torch.device(device)
    model.to(device)
    torch.manual_seed(seed)
    rng = random.Random(seed)
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

    optimizer = torch.optim.AdamW(model.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
    scheduler = get_cosine_schedule_with_warmup(optimizer, round(cfg.warmup_ratio * total_steps), total_steps)
    history: list[dict] = []
    best_loss, best_state, stale = math.inf, None, 0

    def run_eval(epoch: float, opt_step: int) -> bool:
        """Evaluate, log, track the best weights; True when early stopping says stop."""
        nonlocal best_loss, best_state, stale
        if not heldout:
            return False
        evaluation = evaluate(model, tokenizer, heldout, cfg, device)
        eval_rows = metric_rows(evaluation, epoch, opt_step)
        history.extend(eval_rows)
        if on_eval is not None:
            on_eval(eval_rows)
        if evaluation.loss < best_loss:
            best_loss, stale = evaluation.loss, 0
            best_state = {k: v.detach().to("cpu", copy=True) for k, v in model.state_dict().items()}
        else:
            stale += 1
        return cfg.patience > 0 and stale >= cfg.patience

    model.train()
    opt_step, stop = 0, False
    bar = tqdm(total=total_steps, desc="discriminator", unit="step")
    for epoch in range(cfg.epochs):
        batches = length_batches(lengths, cfg.batch_size, rng)
        for s in range(0, len(batches), cfg.grad_accum):
            step_batches = [[rows[i] for i in batch] for batch in batches[s : s + cfg.grad_accum]]
            n_labelled = sum(len(r.labels) for batch in step_batches for r in batch)
            step_loss = 0.0
            for batch in step_batches:
                ids, mask, y, loss_mask = collate(batch, model.config.pad_token_id)
                logits = forward_logits(model, ids, mask)  # [n, L]
                bce = token_bce(logits, y, cfg.pos_weight)  # [n, L]
                loss = bce[loss_mask.to(device)].sum() / n_labelled
                loss.backward()
                step_loss += loss.item()
            torch.nn.utils.clip_grad_norm_(model.parameters(), GRAD_CLIP)
            optimizer.step()
            scheduler.step()
            optimizer.zero_grad(set_to_none=True)
            opt_step += 1
            bar.update(1)
            bar.set_postfix(loss=f"{step_loss:.4f}", epoch=epoch)
            if opt_step >= total_steps:
                break
        done = (s + len(step_batches)) / len(batches)  # fraction of this epoch's micro-batches run
        stop = run_eval(epoch + done, opt_step)
        if stop or opt_step >= total_steps:
            break
    bar.close()
    if best_state is not None:
        model.load_state_dict(best_state)
    model.eval()
    return history
