"""Score token relevance of policy responses for each rubric item (METHOD.md section 7).

Every (response, item) pair becomes one input (see `model.build_input`). The inputs are packed
into rows of at most `pack_length` tokens (first-fit decreasing; position ids restart at each
input, so attention stays inside it), `batch_size` rows per forward pass, and the scores are
scattered back into a dense `[N, K, T]` tensor. Packing spends no compute on padding beyond the
end of each row, and never changes an input's scores: they are those it gets alone. With
`pack_length=0` each input has a row of its own (right-padded, rows of similar length together).
Tokens beyond `max_input_tokens(model)` are not scored (0), like padding.
"""

from __future__ import annotations

import torch
from tqdm.auto import tqdm

from rtt.discriminator.model import (
    bin_pack,
    build_input,
    forward_logits,
    max_input_tokens,
    packed_inputs,
)


@torch.no_grad()
def score_relevance(
    model,
    tokenizer,
    instruction: str,
    items: list[list[str]],
    responses: list[list[int]],
    batch_size: int = 8,
    pack_length: int = 1024,
) -> torch.Tensor:
    """relevance[i, k, t] = sigmoid(logit) of response i's token t for its item k; padding is 0.

    items[i] lists the item texts of response i. Shape [N, K, T], float32 on CPU, with N responses,
    K = max items per response, T = longest response. The model may sit on any device.
    """
    if len(items) != len(responses):
        raise ValueError(f"items has {len(items)} rows but there are {len(responses)} responses")
    n = len(responses)
    k_max = max((len(row) for row in items), default=0)
    t_max = max((len(r) for r in responses), default=0)
    relevance = torch.zeros((n, k_max, t_max), dtype=torch.float32)  # [N, K, T]
    limit = max_input_tokens(model)

    inputs = []  # (input ids, response_start, i, k)
    for i, (row_items, response) in enumerate(zip(items, responses)):
        for k, item_text in enumerate(row_items):
            ids, start = build_input(tokenizer, instruction, item_text, response)
            inputs.append((ids[:limit], start, i, k))
    bins = bin_pack([len(ids) for ids, *_ in inputs], pack_length)  # longest first: memory peaks at once

    was_training = model.training
    model.eval()
    for b in tqdm(range(0, len(bins), batch_size), desc="scoring relevance", unit="batch", leave=False):
        chunk = bins[b : b + batch_size]
        ids, positions, starts = packed_inputs(
            [[inputs[j][0] for j in rows] for rows in chunk], model.config.pad_token_id
        )
        probs = torch.sigmoid(forward_logits(model, ids, positions)).cpu()  # [B, L]
        for row, (members, columns) in enumerate(zip(chunk, starts)):
            for j, column in zip(members, columns):
                row_ids, start, i, k = inputs[j]
                length = len(row_ids) - start
                if length > 0:
                    relevance[i, k, :length] = probs[row, column + start : column + len(row_ids)]
    model.train(was_training)
    return relevance
