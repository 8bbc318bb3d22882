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


def right_pad(rows: list[list[int]], pad_id: int) -> tuple[torch.Tensor, torch.Tensor]:
    """(ids, attention mask) with each row left-aligned; padding after the real tokens."""
    width = max(map(len, rows))
    ids = torch.full((len(rows), width), pad_id, dtype=torch.long)  # [n, L]
    mask = torch.zeros((len(rows), width), dtype=torch.long)  # [n, L]
    for i, row in enumerate(rows):
        ids[i, : len(row)] = torch.tensor(row, dtype=torch.long)
        mask[i, : len(row)] = 1
    return ids, mask


def forward_logits(model, ids: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Per-position relevance logits [n, L] in float32 (bf16 autocast on CUDA)."""
    device = next(model.parameters()).device
    with torch.autocast(device_type=device.type, dtype=torch.bfloat16, enabled=device.type == "cuda"):
        out = model(input_ids=ids.to(device), attention_mask=mask.to(device))
    return out.logits[..., 0].float()  # [n, L]
