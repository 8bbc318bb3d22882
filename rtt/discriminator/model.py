"""The token-level relevance discriminator: a causal LM backbone with a Linear(hidden, 1) head.

Implements METHOD.md section 7. The model is `AutoModelForTokenClassification` with one label (for
Llama, `LlamaForTokenClassification`: the backbone's weights and a fresh `score` head), so it saves
and loads as an ordinary transformers checkpoint. Relevance of response token t for an item is
sigmoid(logit) at t; attention is causal, so it sees the instruction, the item text and the
response up to t.

Input layout (the same at training and scoring time):

    encode(f"{instruction}\\nCriterion: {item_text}\\nResponse:\\n") + response_ids

The response ids are appended as the policy generated them (special tokens such as EOS included),
never decoded and re-encoded. Departure: the original question is not part of the input (the
reference setup leaves it out too). Inputs longer than `max_input_tokens(model)` (2048, or the
backbone's position limit when smaller) are cut from the response end: the cut tokens get no
training loss and a relevance of 0 when scored.
"""

from __future__ import annotations

import os

import torch

MAX_INPUT_TOKENS = 2048


def build_input(tokenizer, instruction: str, item_text: str, response_ids: list[int]) -> tuple[list[int], int]:
    """(input ids, response_start): the encoded prefix followed by the response ids verbatim."""
    prefix = tokenizer(f"{instruction}\nCriterion: {item_text}\nResponse:\n", add_special_tokens=False)["input_ids"]
    return list(prefix) + list(response_ids), len(prefix)


def max_input_tokens(model) -> int:
    """Longest input fed to the model: 2048, or fewer when the backbone has fewer positions."""
    positions = getattr(model.config, "max_position_embeddings", None) or MAX_INPUT_TOKENS
    return min(MAX_INPUT_TOKENS, positions)


def discriminator_device(cfg) -> torch.device:
    """`discriminator.device`, where `policy` means the policy's `model.device`."""
    from rtt.models import resolve_device

    d = cfg.discriminator.device
    return resolve_device(cfg.model.device if d == "policy" else d)


def init_discriminator(backbone: str, device) -> torch.nn.Module:
    """Backbone weights from a causal LM checkpoint plus a freshly initialised 1-logit head (fp32)."""
    from transformers import AutoModelForTokenClassification

    from rtt.models import load_tokenizer

    model = AutoModelForTokenClassification.from_pretrained(backbone, num_labels=1, dtype=torch.float32)
    if model.config.pad_token_id is None:
        model.config.pad_token_id = load_tokenizer(backbone).pad_token_id
    return model.to(device)


def load_discriminator(path: str | os.PathLike, device) -> torch.nn.Module:
    from transformers import AutoModelForTokenClassification

    model = AutoModelForTokenClassification.from_pretrained(str(path), dtype=torch.float32)
    return model.to(device)


def bin_pack(lengths: list[int], capacity: int) -> list[list[int]]:
    """Row indices grouped into bins of at most `capacity` tokens, by first-fit decreasing (a row
    longer than `capacity` gets a bin of its own). capacity 0: one row per bin. Longest bins first."""
    order = sorted(range(len(lengths)), key=lambda i: -lengths[i])
    if capacity <= 0:
        return [[i] for i in order]
    bins: list[list[int]] = []
    room: list[int] = []
    for i in order:
        b = next((b for b, free in enumerate(room) if lengths[i] <= free), None)
        if b is None:
            bins.append([])
            room.append(capacity)
            b = len(bins) - 1
        bins[b].append(i)
        room[b] -= lengths[i]
    return bins


def packed_inputs(bins: list[list[list[int]]], pad_id: int) -> tuple[torch.Tensor, torch.Tensor, list[list[int]]]:
    """(ids [B, L], position_ids [B, L], starts): bin b's rows concatenated into row b, padded at
    the end. Position ids restart at 0 at every input and at the padding, which is how transformers
    marks packed sequences: attention stays inside each input (a block-diagonal causal mask), so an
    input's logits are those it gets alone. starts[b][j] is the column where input j of bin b begins."""
    width = max((sum(map(len, rows)) for rows in bins), default=0)
    ids = torch.full((len(bins), width), pad_id, dtype=torch.long)  # [B, L]
    positions = torch.zeros((len(bins), width), dtype=torch.long)  # [B, L]
    starts = []
    for b, rows in enumerate(bins):
        column, row_starts = 0, []
        for row in rows:
            ids[b, column : column + len(row)] = torch.tensor(row, dtype=torch.long)
            positions[b, column : column + len(row)] = torch.arange(len(row))
            row_starts.append(column)
            column += len(row)
        positions[b, column:] = torch.arange(width - column)  # the padding is one more sequence
        starts.append(row_starts)
    return ids, positions, starts


def forward_logits(model, ids: torch.Tensor, positions: torch.Tensor) -> torch.Tensor:
    """Per-position relevance logits [B, L] in float32 (bf16 autocast on CUDA) of packed rows."""
    device = next(model.parameters()).device
    with torch.autocast(device_type=device.type, dtype=torch.bfloat16, enabled=device.type == "cuda"):
        out = model(input_ids=ids.to(device), position_ids=positions.to(device), use_cache=False)  # no mask: packed
    return out.logits[..., 0].float()  # [B, L]
