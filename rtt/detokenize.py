"""Exact text of generated token ids, with each token's character span in that text.

The judge reads this text, evidence spans are offsets into it, and discriminator labels map those
spans back onto the very token ids the policy generated: no decode/re-encode round trip. For
byte-level BPE tokenizers (GPT-2, Llama 3, SmolLM2, Qwen) each token's bytes are recovered exactly
and decoded incrementally, so a multi-byte character split across tokens belongs to the token that
completes it. Special tokens (EOS, chat markers) contribute no characters: their span is empty.
Other tokenizers fall back to decoding growing prefixes (exact, quadratic in length).
"""

from __future__ import annotations

import codecs
from functools import lru_cache


@lru_cache(maxsize=1)
def _byte_decoder() -> dict[str, int]:
    """Inverse of GPT-2's bytes_to_unicode table: printable stand-in character -> byte."""
    printable = (
        list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) + list(range(ord("®"), ord("ÿ") + 1))
    )
    codes = printable[:]
    extra = 0
    for byte in range(256):
        if byte not in printable:
            printable.append(byte)
            codes.append(256 + extra)
            extra += 1
    return {chr(code): byte for byte, code in zip(printable, codes)}


def is_byte_level(tokenizer) -> bool:
    backend = getattr(tokenizer, "backend_tokenizer", None)
    return backend is not None and type(backend.decoder).__name__ == "ByteLevel"


def token_bytes(tokenizer, ids: list[int]) -> list[bytes]:
    """The bytes each token stands for (empty for special tokens); byte-level tokenizers only."""
    special = set(tokenizer.all_special_ids)
    table = _byte_decoder()
    pieces = tokenizer.convert_ids_to_tokens(ids)
    out = []
    for token_id, piece in zip(ids, pieces):
        if token_id in special or piece is None:
            out.append(b"")
        elif all(ch in table for ch in piece):
            out.append(bytes(table[ch] for ch in piece))
        else:  # an added (non-special) token stored as plain text
            out.append(piece.encode("utf-8"))
    return out


def decode_with_offsets(tokenizer, ids: list[int]) -> tuple[str, list[tuple[int, int]]]:
    """(text, [(start, end) per token]) with text[start:end] the characters token t completed."""
    if not is_byte_level(tokenizer):
        return _decode_prefixes(tokenizer, ids)
    decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
    chunks, offsets, length = [], [], 0
    for piece in token_bytes(tokenizer, ids):
        text = decoder.decode(piece)
        chunks.append(text)
        offsets.append((length, length + len(text)))
        length += len(text)
    tail = decoder.decode(b"", final=True)  # a dangling partial character at the end
    if tail and offsets:
        chunks.append(tail)
        start, _ = offsets[-1]
        offsets[-1] = (start, length + len(tail))
    return "".join(chunks), offsets


def _decode_prefixes(tokenizer, ids: list[int]) -> tuple[str, list[tuple[int, int]]]:
    offsets, previous = [], ""
    for t in range(len(ids)):
        text = tokenizer.decode(ids[: t + 1], skip_special_tokens=True)
        if not text.startswith(previous):  # a later token rewrote earlier text: give it the difference
            common = len(_common_prefix(previous, text))
            offsets.append((common, len(text)))
        else:
            offsets.append((len(previous), len(text)))
        previous = text
    return previous, offsets


def _common_prefix(a: str, b: str) -> str:
    n = 0
    while n < min(len(a), len(b)) and a[n] == b[n]:
        n += 1
    return a[:n]


def spans_to_token_labels(offsets: list[tuple[int, int]], spans: list[tuple[int, int]]) -> list[int]:
    """1 for a token with any character inside any half-open span, else 0."""
    labels = []
    for start, end in offsets:
        hit = any(start < s_end and s_start < end for s_start, s_end in spans) if end > start else False
        labels.append(int(hit))
    return labels
