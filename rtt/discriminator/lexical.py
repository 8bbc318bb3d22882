"""The lexical relevance baseline: a token is relevant to an item when it overlaps the item's words.

One of the relevance baselines of METHOD.md section 7 (with uniform, random and the gold spans),
there to show what the learned discriminator adds over string matching. An item's terms are the
strings it quotes ('The word "tea" appears...' -> tea), or, when it quotes nothing, its content
words (runs of \\w of 3+ characters that are not stop words or rubric boilerplate such as
"response" or "least"). A response token is relevant (1) when any of its characters lies in a
case-insensitive, whole-word occurrence of a term in the response text; otherwise 0. Texts come
from the policy's own token ids through `decode_with_offsets`, as everywhere else.
"""

from __future__ import annotations

import re

import torch

from rtt.detokenize import decode_with_offsets, spans_to_token_labels

# English stop words, and words every rubric item uses ("The response has at least 3 words.")
STOP_WORDS = frozenset(
    """
a about above after again all also an and any are as at be been before being below between both but by
can could did do does doing each either every few for from had has have having he her here him his how
i if in into is it its itself just least less like many may more most must no nor not of off on once
one only or other our out over own same she should so some such than that the their them then there
these they this those through to too under until up very was we were what when where which while who
why will with would you your
response responses answer entire exactly appears appear times time contain contains containing
include includes including word words sentence sentences paragraph paragraphs letter letters
character characters line lines phrase phrases item items section sections wrapped starts start
ends end uses use using written write followed given
""".split()
)
_QUOTED = re.compile(r'"([^"]+)"')
_WORD = re.compile(r"\w{3,}")


def item_terms(item_text: str) -> list[str]:
    """The strings an item is about: what it quotes, else its content words (lower-cased, unique)."""
    quoted = [q.strip() for q in _QUOTED.findall(item_text) if q.strip()]
    terms = quoted or [w for w in _WORD.findall(item_text) if w.lower() not in STOP_WORDS]
    return list(dict.fromkeys(t.lower() for t in terms))


def term_spans(text: str, terms: list[str]) -> list[tuple[int, int]]:
    """Case-insensitive occurrences of the terms in text, whole words where a term starts or ends
    with a word character."""
    spans = []
    for term in terms:
        left = r"\b" if re.match(r"\w", term) else ""
        right = r"\b" if re.search(r"\w$", term) else ""
        spans += [m.span() for m in re.finditer(left + re.escape(term) + right, text, re.IGNORECASE)]
    return spans


def lexical_relevance(
    tokenizer, item_texts: list[list[str]], responses: list[list[int]], k: int, t: int
) -> torch.Tensor:
    """[N, K, T] 0/1: response n's token j overlaps a term of its item i. Padding stays 0."""
    out = torch.zeros((len(responses), k, t))  # [N, K, T]
    for n, (items, ids) in enumerate(zip(item_texts, responses)):
        text, offsets = decode_with_offsets(tokenizer, ids)
        for i, item in enumerate(items[:k]):
            labels = spans_to_token_labels(offsets[:t], term_spans(text, item_terms(item)))  # [T_n]
            out[n, i, : len(labels)] = torch.tensor(labels, dtype=torch.float32)
    return out
