"""Score token relevance of policy responses for each rubric item (METHOD.md section 7).

Every (response, item) pair becomes one input (see `model.build_input`). The pairs are flattened,
sorted by length and cut into batches, so each batch holds rows of similar length and padding is
small; the scores are scattered back into a dense `[N, K, T]` tensor. Right padding never changes
a real token's score (attention is causal), so batching gives the same numbers as scoring alone.
Tokens beyond `max_input_tokens(model)` are not scored (0), like padding.
"""

from __future__ import annotations

import torch
from tqdm.auto import tqdm

from rtt.discriminator.model import build_input, forward_logits, max_input_tokens, right_pad


@torch.no_grad()
def score_relevance(
    model,
    tokenizer,
    instruction: str,
    items: list[list[str]],
    responses: list[list[int]],
    batch_size: int = 32,
) -> torch.Tensor:
    """relevance[i, k, t] = sigmoid(logit) of response i's token t for its item k; padding is 0.

    items[i] lists the item texts of response i. Shape [N, K, T], float32 on CPU, with N responses,
    K = max items per response, T = longest response.
    """
    if len(items) != len(responses):
        raise ValueError(f"items has {len(items)} rows but there are {len(responses)} responses")
    n = len(responses)
    k_max = max((len(row) for row in items), default=0)
    t_max = max((len(r) for r in responses), default=0)
    relevance = torch.zeros((n, k_max, t_max), dtype=torch.float32)  # [N, K, T]
    limit = max_input_tokens(model)

    rows = []  # (input ids, response_start, i, k)
    for i, (row_items, response) in enumerate(zip(items, responses)):
        for k, item_text in enumerate(row_items):
            ids, start = build_input(tokenizer, instruction, item_text, response)
            rows.append((ids[:limit], start, i, k))
    rows.sort(key=lambda row: len(row[0]), reverse=True)  # longest first: memory peaks at once

    was_training = model.training
    model.eval()
    for b in tqdm(range(0, len(rows), batch_size), desc="scoring relevance", unit="batch", leave=False):
        batch = rows[b : b + batch_size]
        ids, mask = right_pad([row[0] for row in batch], model.config.pad_token_id)  # [n, L]
        probs = torch.sigmoid(forward_logits(model, ids, mask)).cpu()  # [n, L]
        for j, (row_ids, start, i, k) in enumerate(batch):
            length = len(row_ids) - start
            if length > 0:
                relevance[i, k, :length] = probs[j, start : len(row_ids)]
    model.train(was_training)
    return relevance
