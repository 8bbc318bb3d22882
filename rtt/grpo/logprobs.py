"""Per-token logprobs of responses under a causal LM, for prompt+response sequences.

Glossary: N sequences, L = longest prompt+response, T = longest response, H hidden size, V vocab.
Token t of response i sits at position len(prompt_i) + t; the logit that generated it is at the
position before. Logits are divided by the sampling temperature, as the sampler's were.

Only the response positions get logits: the decoder's hidden states `[N, L, H]` are gathered at
`positions` and only those `[N, T, H]` go through the LM head, instead of the full `[N, L, V]`
logits of `model(...)` (the prompt's logits are never used). This holds for the model types in
`PLAIN_HEAD`, whose forward is exactly `lm_head(decoder(...))`; any other model (one that scales or
soft-caps its logits after the head, or is not a transformers model) takes the full forward.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

PLAIN_HEAD = frozenset({"llama", "mistral", "qwen2", "qwen3", "phi3", "olmo2", "smollm3"})
"""transformers model types whose causal-LM logits are `lm_head(last_hidden_state)`, unchanged."""


@dataclass
class Packed:
    input_ids: torch.Tensor  # [N, L] right-padded prompt + response
    attention_mask: torch.Tensor  # [N, L]
    positions: torch.Tensor  # [N, T] index of the logit that predicts response token t
    response_ids: torch.Tensor  # [N, T]
    response_mask: torch.Tensor  # [N, T] bool

    def select(self, rows: torch.Tensor | list[int]) -> Packed:
        rows = torch.as_tensor(rows, dtype=torch.long)
        return Packed(
            *(
                getattr(self, f)[rows]
                for f in ("input_ids", "attention_mask", "positions", "response_ids", "response_mask")
            )
        )

    def to(self, device: torch.device) -> Packed:
        return Packed(
            *(
                getattr(self, f).to(device)
                for f in ("input_ids", "attention_mask", "positions", "response_ids", "response_mask")
            )
        )


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
        input_ids[i, : len(seq)] = torch.tensor(seq)
        attention[i, : len(seq)] = 1
        positions[i, : len(r)] = torch.arange(len(p) - 1, len(p) - 1 + len(r))
        responses[i, : len(r)] = torch.tensor(r, dtype=torch.long)
        mask[i, : len(r)] = True
    return Packed(input_ids, attention, positions, responses, mask)


def at_positions(x: torch.Tensor, positions: torch.Tensor) -> torch.Tensor:
    """x [N, L, D] taken at positions [N, T] -> [N, T, D]."""
    return x.gather(1, positions.unsqueeze(-1).expand(-1, -1, x.shape[-1]))  # [N, T, D]


def full_logits(model, batch: Packed) -> torch.Tensor:
    """Logits `[N, T, V]` at the response positions, from the full `[N, L, V]` forward."""
    logits = model(input_ids=batch.input_ids, attention_mask=batch.attention_mask).logits  # [N, L, V]
    return at_positions(logits, batch.positions)  # [N, T, V]


def response_logits(model, batch: Packed) -> torch.Tensor:
    """Logits `[N, T, V]` at the response positions, the LM head applied there only."""
    if getattr(getattr(model, "config", None), "model_type", None) not in PLAIN_HEAD:
        return full_logits(model, batch)
    out = model.get_decoder()(input_ids=batch.input_ids, attention_mask=batch.attention_mask, use_cache=False)
    hidden = at_positions(out.last_hidden_state, batch.positions)  # [N, L, H] -> [N, T, H]
    return model.get_output_embeddings()(hidden)  # [N, T, V]


def token_logprobs(
    model,
    batch: Packed,
    temperature: float = 1.0,
    with_entropy: bool = False,
    response_only: bool = True,
    entropy_grad: bool = True,
):
    """(logprobs [N, T], entropy [N, T] or None); padding positions hold garbage, mask them.
    response_only=False computes the logits of every position first (the reference path).
    entropy_grad=False: the entropy is a statistic only, computed without autograd, which would
    otherwise keep another [N, T, V] tensor alive for a backward pass that never comes."""
    logits = response_logits(model, batch) if response_only else full_logits(model, batch)  # [N, T, V]
    logp_all = torch.log_softmax(logits.float() / temperature, dim=-1)  # [N, T, V]
    logp = logp_all.gather(-1, batch.response_ids.unsqueeze(-1)).squeeze(-1)  # [N, T]
    entropy = None
    if with_entropy:
        with torch.set_grad_enabled(entropy_grad and torch.is_grad_enabled()):
            entropy = -(logp_all.exp() * logp_all).sum(-1)  # [N, T]
    return logp, entropy
