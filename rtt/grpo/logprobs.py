"""Per-token logprobs of responses under a causal LM, for prompt+response sequences.

Glossary: N sequences, L = longest prompt+response, T = longest response, V vocab.
Token t of response i sits at position len(prompt_i) + t; the logit that generated it is at the
position before. Logits are divided by the sampling temperature, as the sampler's were.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch


@dataclass
class Packed:
    input_ids: torch.Tensor       # [N, L] right-padded prompt + response
    attention_mask: torch.Tensor  # [N, L]
    positions: torch.Tensor       # [N, T] index of the logit that predicts response token t
    response_ids: torch.Tensor    # [N, T]
    response_mask: torch.Tensor   # [N, T] bool

    def select(self, rows: torch.Tensor | list[int]) -> "Packed":
        rows = torch.as_tensor(rows, dtype=torch.long)
        return Packed(*(getattr(self, f)[rows] for f in ("input_ids", "attention_mask", "positions", "response_ids", "response_mask")))

    def to(self, device: torch.device) -> "Packed":
        return Packed(*(getattr(self, f).to(device) for f in ("input_ids", "attention_mask", "positions", "response_ids", "response_mask")))


def pack(prompt_ids: list[list[int]], response_ids: list[list[int]], pad_id: int) -> Packed:
    n = len(prompt_ids)
    width = max(len(p) + len(r) for p, r in zip(prompt_ids, response_ids))
    longest = max(max(map(len, response_ids)), 1)
    input_ids = torch.full((n, width), pad_id, dtype=torch.long)  # [N, L]
    attention = torch.zeros((n, width), dtype=torch.long)  # [N, L]
    positions = torch.zeros((n, longest), dtype=torch.long)  # [N, T]
    responses = torch.full((n, longest), pad_id, dtype=torch.long)  # [N, T]
    mask = torch.zeros((n, longest), dtype=torch.bool)  # [N, T]
    for i, (p, r) in enumerate(zip(prompt_ids, response_ids)):
        seq = p + r
        input_ids[i, :len(seq)] = torch.tensor(seq)
        attention[i, :len(seq)] = 1
        positions[i, :len(r)] = torch.arange(len(p) - 1, len(p) - 1 + len(r))
        responses[i, :len(r)] = torch.tensor(r, dtype=torch.long)
        mask[i, :len(r)] = True
    return Packed(input_ids, attention, positions, responses, mask)


def token_logprobs(model, batch: Packed, temperature: float = 1.0, with_entropy: bool = False):
    """(logprobs [N, T], entropy [N, T] or None); padding positions hold garbage, mask them."""
    logits = model(input_ids=batch.input_ids, attention_mask=batch.attention_mask).logits  # [N, L, V]
    index = batch.positions.unsqueeze(-1).expand(-1, -1, logits.shape[-1])  # [N, T, V]
    logits = logits.gather(1, index).float() / temperature  # [N, T, V]
    logp_all = torch.log_softmax(logits, dim=-1)  # [N, T, V]
    logp = logp_all.gather(-1, batch.response_ids.unsqueeze(-1)).squeeze(-1)  # [N, T]
    entropy = -(logp_all.exp() * logp_all).sum(-1) if with_entropy else None  # [N, T]
    return logp, entropy
