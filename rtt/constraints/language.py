"""Language identification as IFEval does it: `langdetect`, with its randomness pinned.

langdetect samples n-grams at random, so the same text can get different answers from one call
to the next. IFEval's evaluation leaves it unseeded; here every detection seeds its own detector
with 0 (without touching langdetect's global `DetectorFactory.seed`), so verdicts are
reproducible and equal to IFEval's under `DetectorFactory.seed = 0`. Results are cached per text:
one response is usually graded on several items that ask for its language.

Speed: langdetect's inner loop multiplies 55 language probabilities in Python, n-gram by n-gram.
`_Detector` does those same float64 multiplications and divisions on numpy arrays, in the same
order, with the sum taken by Python's `sum` as langdetect does, so every answer is langdetect's
own (tests compare them); it is about twice as fast.
"""

from __future__ import annotations

import functools

import numpy as np
from langdetect import detector_factory
from langdetect.detector import Detector
from langdetect.lang_detect_exception import LangDetectException

SEED = 0


class _Detector(Detector):
    """langdetect's Detector with its probability vector held in a numpy array."""

    # n-gram -> its [L=55] language probabilities, filled as n-grams are met (at most the
    # profiles' 87,598 n-grams, ~40 MB; a training run meets a small fraction of them)
    arrays: dict[str, np.ndarray] = {}

    def _init_probability(self):
        if self.prior_map is not None:
            return np.array(self.prior_map, dtype=np.float64)
        return np.full(len(self.langlist), 1.0 / len(self.langlist))  # [L]

    def _update_lang_prob(self, prob, word, alpha):
        row = self.arrays.get(word)
        if row is None:
            if word is None or word not in self.word_lang_prob_map:
                return False
            row = self.arrays[word] = np.array(self.word_lang_prob_map[word], dtype=np.float64)  # [L]
        prob *= alpha / self.BASE_FREQ + row  # [L], elementwise as langdetect's loop
        return True

    def _normalize_prob(self, prob):
        prob /= sum(prob.tolist())  # Python's sum, left to right, as langdetect
        return max(0.0, float(prob.max()))


@functools.lru_cache(maxsize=1)
def _factory():
    detector_factory.init_factory()
    return detector_factory._factory  # the loaded profiles, shared with langdetect.detect


@functools.lru_cache(maxsize=8192)
def detect_language(text: str) -> str | None:
    """The ISO 639-1 code langdetect gives `text` ("en", "fr", "zh-cn", ...), or None where it
    cannot tell (no letters, say): IFEval then counts a language instruction as followed."""
    detector = _Detector(_factory())
    detector.seed = SEED
    detector.append(text)
    try:
        return detector.detect()
    except LangDetectException:
        return None
