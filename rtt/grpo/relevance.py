"""Token relevance `[N, K, T]` for a GRPO batch, from the discriminator or an ablation.

Sources (config `grpo.relevance`): `discriminator` (the trained model), `uniform` (all ones on
valid tokens: A_tok is 0 under intra_sample), `random` (U(0,1)), `lexical` (tokens overlapping
the item's quoted strings or content words, `rtt.discriminator.lexical`), `gold` (the rule
checkers' evidence spans as 0/1 labels: an upper bound for the discriminator). Invalid (item or token
padding) positions are 0.

`threshold` (config `grpo.relevance_threshold`, not in the paper) zeroes scores below it before the
token reward is normalized. Intra-sample normalization z-scores each (response, item) row on its
own, so a row whose scores are all small (a satisfied "do not" item: no token is responsible; on
the testbed the discriminator's peak score on such rows had median 0.008) is stretched to unit
variance, as large as a real signal: the token advantage becomes the discriminator's noise, with its
bias. A threshold turns such a row into a constant one, which contributes exactly 0, as its gold
labels would. The scores stored in `token_scores` are the ungated ones.
"""

from __future__ import annotations

import torch

from rtt.discriminator.lexical import lexical_relevance
from rtt.discriminator.score import score_relevance


def valid_mask(n_items: list[int], lengths: list[int], k: int, t: int) -> torch.Tensor:
    items = torch.arange(k).unsqueeze(0) < torch.tensor(n_items).unsqueeze(1)  # [N, K]
    tokens = torch.arange(t).unsqueeze(0) < torch.tensor(lengths).unsqueeze(1)  # [N, T]
    return items.unsqueeze(-1) & tokens.unsqueeze(1)  # [N, K, T]


def relevance(
    source: str,
    *,
    gold: torch.Tensor,
    item_texts: list[list[str]],
    responses: list[list[int]],
    discriminator=None,
    tokenizer=None,
    instruction: str = "",
    batch_size: int = 8,
    pack_length: int = 1024,
    generator: torch.Generator | None = None,
) -> torch.Tensor:
    """`gold` is `[N, K, T]` 0/1 labels; it also fixes the output shape."""
    n, k, t = gold.shape
    valid = valid_mask([len(x) for x in item_texts], [len(r) for r in responses], k, t)  # [N, K, T]
    if source == "gold":
        return gold.float() * valid
    if source == "uniform":
        return valid.float()
    if source == "random":
        return torch.rand((n, k, t), generator=generator) * valid
    if source == "lexical":
        return lexical_relevance(tokenizer, item_texts, responses, k, t) * valid
    if source == "discriminator":
        scores = score_relevance(
            discriminator, tokenizer, instruction, item_texts, responses, batch_size, pack_length
        )  # [N, K', T']
        out = torch.zeros((n, k, t))
        out[:, : scores.shape[1], : scores.shape[2]] = scores
        return out * valid
    raise ValueError(f"relevance source: unknown {source!r}")


def gate(relevance: torch.Tensor, threshold: float) -> torch.Tensor:
    """Scores below `threshold` set to 0 (0 leaves them all, the paper's method)."""
    if not 0 <= threshold <= 1:
        raise ValueError(f"relevance threshold must lie in [0, 1], got {threshold}")
    return relevance if threshold == 0 else relevance * (relevance >= threshold)  # [N, K, T]


def dense(rows: list[list], k: int, t: int | None, fill=0) -> torch.Tensor:
    """Ragged [N][K] (or [N][K][T]) Python lists -> a padded tensor."""
    shape = (len(rows), k) if t is None else (len(rows), k, t)
    out = torch.full(shape, fill, dtype=torch.float32)
    for i, row in enumerate(rows):
        for j, value in enumerate(row):
            if t is None:
                out[i, j] = value
            else:
                out[i, j, : len(value)] = torch.tensor(value, dtype=torch.float32)
    return out
