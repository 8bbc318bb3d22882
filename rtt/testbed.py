"""A credit-assignment testbed: a tiny word-level policy, and prompts whose items name their tokens.

What it is for: comparing RTT-GRPO (token advantage from relevance x verdict, METHOD.md section 5)
with plain GRPO in minutes on a CPU, on a task where the tokens responsible for every rubric item
are known exactly, so the discriminator's relevance can also be held against the truth.

The policy (`build_testbed_model`, built-in name `testbed`): a random 2-layer Llama (hidden 64)
over a word-level vocabulary: the SmolLM2 special tokens and chat template (`rtt.models`) and the
`WORDS` below, nothing else (every other word of a prompt or an item text reads as the unknown
token, `<|endoftext|>`). A response is a string of those words joined by spaces, one token per
word. Two choices make the starting policy meet each item some of the time, and never trivially:
- the output layer starts small (`HEAD_SCALE`), so the untrained policy is near-uniform over the words;
- its generation config suppresses the special tokens (`suppress_tokens`), so EOS is never
  sampled and every response runs to `max_new_tokens` (T) words. Without this the policy could
  satisfy every "do not use" item by stopping at once. The sampler records log-probabilities of
  the raw logits, as training recomputes them: the suppressed tokens only change what is drawn
  (their raw probability, 3/27 at the start, is mass the policy never samples).

The prompts (`generate_prompts`, rubric source `testbed`): each of K items is IFEval's
`keywords:forbidden_words` with one word drawn from `FORBIDDEN` (the first half of `WORDS`). It
fails exactly when that word occurs, and the rule checker's spans are its occurrences, so the gold
relevance of a failed item is the offending tokens (of a passed item, nothing: no token advantage).
An item passes the uniform starting policy with probability (1 - 1/V)^T and a response meets all K
with (1 - K/V)^T: 0.65 and 0.26 for V=24, T=10, K=3 (measured on the built policy: 0.64-0.68 and
0.26-0.30 over 64-384 samples). The other half of `WORDS` is never forbidden: a policy that learns
to avoid the forbidden half meets every item of every prompt, so the task is learnable without
reading the prompt, and what is measured is how fast credit reaches the offending words.
"""

from __future__ import annotations

import hashlib
import random
from pathlib import Path

import torch

from rtt.constraints import describe
from rtt.models import CHAT_TEMPLATE, SPECIAL_TOKENS, quiet_transformers, random_llama, save_once

WORDS = (
    "red",
    "blue",
    "green",
    "gold",
    "pink",
    "gray",
    "teal",
    "plum",
    "tan",
    "jade",
    "navy",
    "rust",
    "cat",
    "dog",
    "fox",
    "owl",
    "bee",
    "elk",
    "yak",
    "cow",
    "pig",
    "hen",
    "ram",
    "eel",
)
"""The response vocabulary (V = 24): no word occurs inside another, so a word check never fires on
a neighbour."""
FORBIDDEN = WORDS[:12]
"""Words an item may forbid; the rest are always allowed."""
UNK = "<|endoftext|>"
HEAD_SCALE = 0.1
"""Factor on the output layer's initial weights: logits of about +-0.02, a near-uniform start."""
CHECKER = "keywords:forbidden_words"


def build_testbed_tokenizer():
    """One token per word of WORDS, the SmolLM2 special tokens and chat template; anything else
    is UNK. Words are split on whitespace and punctuation; decoding joins them with spaces."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers
    from transformers import PreTrainedTokenizerFast

    vocab = {token: i for i, token in enumerate([*SPECIAL_TOKENS, *WORDS])}
    tok = Tokenizer(models.WordLevel(vocab=vocab, unk_token=UNK))
    tok.pre_tokenizer = pre_tokenizers.Whitespace()
    tok.decoder = decoders.WordPiece(prefix="##", cleanup=False)  # joins words with one space
    tok.add_special_tokens(SPECIAL_TOKENS)
    return PreTrainedTokenizerFast(
        tokenizer_object=tok,
        bos_token="<|im_start|>",
        eos_token="<|im_end|>",
        pad_token="<|im_end|>",
        unk_token=UNK,
        chat_template=CHAT_TEMPLATE,
        clean_up_tokenization_spaces=False,
    )


def build_testbed_model(out: Path, seed: int = 0) -> Path:
    """The testbed policy saved as a normal transformers folder (cached: built once per folder)."""
    if (out / "config.json").exists():
        return out
    quiet_transformers()
    tokenizer = build_testbed_tokenizer()
    specials = sorted({tokenizer.convert_tokens_to_ids(t) for t in SPECIAL_TOKENS})
    model = random_llama(tokenizer, 64, 128, tied=False, seed=seed, suppress_tokens=specials)
    with torch.no_grad():
        model.lm_head.weight.mul_(HEAD_SCALE)
    return save_once(model, tokenizer, out)


def make_prompt(seed: int, index: int, k: int = 3) -> dict:
    """Prompt `index` for `seed`: K distinct forbidden words, one item each (the builtin row format)."""
    digest = hashlib.sha256(f"rtt-testbed:{seed}:{index}:{k}".encode()).digest()
    rng = random.Random(int.from_bytes(digest[:8], "big"))
    words = rng.sample(FORBIDDEN, k)
    constraints = [{"instruction_id": CHECKER, "kwargs": {"forbidden_words": [w]}} for w in words]
    task = "Write a list of colors and animals."
    return {
        "prompt_id": "testbed-" + digest.hex()[:16],
        "prompt": f"{task} Do not use the words {', '.join(words[:-1])} or {words[-1]}.",
        "task": task,
        "source": "testbed",
        "constraints": [{**c, "text": describe(c["instruction_id"], c["kwargs"])} for c in constraints],
    }


def generate_prompts(n: int, seed: int, k: int = 3) -> list[dict]:
    """n testbed prompts, deterministic in seed; prompt i depends only on (seed, i, k)."""
    if not 1 <= k <= len(FORBIDDEN):
        raise ValueError(f"testbed: need 1 <= k <= {len(FORBIDDEN)} items per prompt, got {k}")
    return [make_prompt(seed, i, k) for i in range(n)]
