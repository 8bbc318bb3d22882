"""The policy update: PPO-clip steps on plain tensors (METHOD.md section 6).

The trainer never sees the algorithm: it receives sequences, a response mask and a per-token
advantage `[N, T]` computed beforehand (rtt/grpo/advantages.py), and returns statistics.
One rollout batch is split into `updates_per_batch` shuffled mini-batches, one optimizer step each,
with gradient accumulation over micro-batches. `logp_old` is computed once, before the first update,
by the policy that sampled, so later mini-batches see a real ratio. With one optimizer step per
batch (`updates_per_batch: 1`) there is no separate pass: the step's own forward runs on the
weights that sampled, so its logprobs, detached, are `logp_old` (ratio 1, as in TRL with
`num_iterations=1`), one forward pass fewer per step. With `train_layers` the trainer
freezes the embeddings and lower layers of the model it is given, for its lifetime
(`freeze_lower_layers`); the optimizer and the gradient clipping see only the trainable weights.
Given `ranks` (rtt.data_parallel), the batch is this rank's rows of a global batch: mini-batches
are drawn over the global rows, shares are taken against global counts and gradients are summed over
ranks before each optimizer step, so every replica takes the single-process step.
"""

from __future__ import annotations

import contextlib
import math

import torch

from rtt.config import GRPOConfig
from rtt.data_parallel import Ranks, all_keys, all_reduce, all_sum, row_offset, sum_gradients
from rtt.grpo.logprobs import Packed, token_logprobs
from rtt.grpo.loss import policy_loss
from rtt.grpo.mismatch import logprob_gap, tis_weights
from rtt.models import freeze_lower_layers


def lr_factor(step: int, warmup: int, total: int, schedule: str) -> float:
    """Multiplier of the peak lr at optimizer step `step` (0-based): linear warm-up, then constant or cosine."""
    if step < warmup:
        return (step + 1) / warmup
    if schedule == "constant":
        return 1.0
    progress = min(1.0, (step - warmup) / max(1, total - warmup))
    return 0.5 * (1.0 + math.cos(math.pi * progress))


class PolicyTrainer:
    def __init__(
        self, model, cfg: GRPOConfig, device: torch.device, ref_model=None, seed: int = 0, ranks: Ranks | None = None
    ):
        self.model, self.cfg, self.device, self.ref_model = model, cfg, device, ref_model
        self.ranks = ranks or Ranks()
        freeze_lower_layers(model, cfg.train_layers)
        self.params = [p for p in model.parameters() if p.requires_grad]
        # fused: one pass over all the weights per step, not a loop of ops per weight (3x faster on CPU)
        self.optimizer = torch.optim.AdamW(self.params, lr=cfg.lr, weight_decay=cfg.weight_decay, fused=True)
        self.scheduler = torch.optim.lr_scheduler.LambdaLR(
            self.optimizer,
            lambda step: lr_factor(step, cfg.warmup_steps, cfg.steps * cfg.updates_per_batch, cfg.lr_schedule),
        )
        self.generator = torch.Generator().manual_seed(seed)
        self.global_step = 0

    def state_dict(self) -> dict:
        """Everything but the weights that a resumed run needs to continue exactly."""
        return {
            "optimizer": self.optimizer.state_dict(),
            "scheduler": self.scheduler.state_dict(),
            "global_step": self.global_step,
            "generator": self.generator.get_state(),
        }

    def load_state_dict(self, state: dict) -> None:
        self.optimizer.load_state_dict(state["optimizer"])
        self.scheduler.load_state_dict(state["scheduler"])
        self.global_step = state["global_step"]
        self.generator.set_state(state["generator"])

    def autocast(self):
        if self.device.type == "cuda":
            return torch.autocast("cuda", dtype=torch.bfloat16)
        return contextlib.nullcontext()

    @torch.no_grad()
    def logprobs(self, model, batch: Packed) -> torch.Tensor:
        """Per-token logprobs `[N, T]` of `model`, in micro-batches, without gradients."""
        model.eval()
        out = []
        for start in range(0, batch.input_ids.shape[0], self.cfg.micro_batch_size):
            micro = batch.select(range(start, min(start + self.cfg.micro_batch_size, batch.input_ids.shape[0]))).to(
                self.device
            )
            with self.autocast():
                logp, _ = token_logprobs(model, micro, self.cfg.temperature)
            out.append(logp.float().cpu())
        return torch.cat(out)  # [N, T]

    def update(
        self, batch: Packed, advantages: torch.Tensor, sampler_logprobs: torch.Tensor | None = None
    ) -> dict[str, float]:
        """`updates_per_batch` optimizer steps on one rollout batch; returns mean statistics.

        sampler_logprobs `[N, T]`: the logprobs the sampler recorded for the sampled tokens. Given,
        the stats hold their gap to the trainer's (rtt.grpo.mismatch), and with `tis_cap` > 0 the
        loss is corrected by truncated importance sampling."""
        n = batch.input_ids.shape[0]
        separate_pass = self.cfg.updates_per_batch > 1
        old = self.logprobs(self.model, batch) if separate_pass else torch.zeros(batch.response_mask.shape)  # [N, T]
        ref = self.logprobs(self.ref_model, batch) if self.cfg.beta > 0 else None  # [N, T]
        self.model.train()
        offset, n_global = row_offset(n, self.ranks)
        order = torch.randperm(n_global, generator=self.generator)  # the same on every rank
        minis = [m for m in order.chunk(self.cfg.updates_per_batch) if len(m)]
        totals: dict[str, float] = {}
        for mini in minis:
            mine = mini[(mini >= offset) & (mini < offset + n)] - offset  # this rank's rows of the mini-batch
            stats = self._optimizer_step(
                batch, advantages, old, not separate_pass, ref, sampler_logprobs, mine, len(mini)
            )
            for key, value in stats.items():
                totals[key] = totals.get(key, 0.0) + value / len(minis)
        gap = self._gap(old, sampler_logprobs, batch.response_mask) if sampler_logprobs is not None else {}
        return totals | gap

    def _gap(self, old: torch.Tensor, sampler: torch.Tensor, mask: torch.Tensor) -> dict[str, float]:
        """`logprob_gap` over every rank's tokens: means weighted by each rank's token count, the max of maxima."""
        gap = logprob_gap(old, sampler, mask)
        if not self.ranks.active:
            return gap
        tokens = float(mask.sum())
        sums = all_sum(
            torch.tensor([gap["logprob_gap_abs"] * tokens, gap["logprob_gap_kl"] * tokens, tokens]), self.ranks
        )
        top = all_reduce(torch.tensor(gap["logprob_gap_max"]), self.ranks, torch.distributed.ReduceOp.MAX)
        total = max(float(sums[2]), 1.0)
        return {
            "logprob_gap_abs": float(sums[0]) / total,
            "logprob_gap_max": float(top),
            "logprob_gap_kl": float(sums[1]) / total,
        }

    def _optimizer_step(
        self, batch, advantages, old, fill_old: bool, ref, sampler, rows: torch.Tensor, mini_size: int | None = None
    ) -> dict[str, float]:
        """One optimizer step on `rows`, this rank's rows of a mini-batch of `mini_size` rows in all (default: `rows`).
        fill_old: `old` is written here, from this step's own forward."""
        cfg = self.cfg
        mini_size = mini_size or len(rows)
        mini_tokens = all_sum(batch.response_mask[rows].sum(), self.ranks).clamp(min=1)
        sums: dict[str, float] = {}
        for micro in rows.split(cfg.micro_batch_size) if len(rows) else ():  # a rank may hold no row of a mini-batch
            part = batch.select(micro).to(self.device)
            # weight of this micro-batch in the mini-batch mean (by tokens for token_mean, else by sequences)
            share = (part.response_mask.sum() / mini_tokens) if cfg.loss_agg == "token_mean" else len(micro) / mini_size
            with self.autocast():
                logp, entropy = token_logprobs(
                    self.model, part, cfg.temperature, with_entropy=True, entropy_grad=cfg.entropy_coef != 0
                )
            if fill_old:
                old[micro] = logp.detach().float().cpu()
            weights = None
            if sampler is not None and cfg.tis_cap > 0:
                weights = tis_weights(old[micro], sampler[micro], part.response_mask.cpu(), cfg.tis_cap)  # [n, T]
            loss, stats = policy_loss(
                logp,
                old[micro].to(self.device),
                advantages[micro].to(self.device),
                part.response_mask,
                eps_low=cfg.eps_low,
                eps_high=cfg.eps_high,
                loss_agg=cfg.loss_agg,
                max_len=cfg.max_new_tokens,
                ref_logprobs=ref[micro].to(self.device) if ref is not None else None,
                beta=cfg.beta,
                entropy=entropy,
                entropy_coef=cfg.entropy_coef,
                is_weights=weights.to(self.device) if weights is not None else None,
            )
            (loss * share).backward()
            stats["loss"] = float(loss.detach())
            for key, value in stats.items():
                sums[key] = sums.get(key, 0.0) + float(value) * float(share)
        if self.ranks.active:  # the shares of all ranks add up to 1: summed, the stats are the mini-batch's
            keys = sorted(set().union(*all_keys(sums, self.ranks)))  # a rank without rows has none
            summed = all_sum(torch.tensor([sums.get(k, 0.0) for k in keys], dtype=torch.float64), self.ranks)
            sums = dict(zip(keys, summed.tolist()))
            sum_gradients(self.params, self.ranks)
        grad_norm = torch.nn.utils.clip_grad_norm_(self.params, cfg.grad_clip)
        self.optimizer.step()
        self.scheduler.step()
        self.optimizer.zero_grad(set_to_none=True)
        self.global_step += 1
        sums["grad_norm"] = float(grad_norm)
        sums["lr"] = self.scheduler.get_last_lr()[0]
        return sums
