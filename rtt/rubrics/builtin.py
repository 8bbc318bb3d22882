"""Built-in prompts whose rubrics are all verifiable (METHOD.md section 8, last line).

A prompt is a short task on a topic ("Write a short note about coffee.") followed by 1..max_constraints
IFEval-style instructions. Each instruction is one rule-graded rubric item whose text is
`rtt.constraints.describe(...)`. Prompts stay short and the constraints are mostly ones a tiny
(135M) model satisfies some of the time, so that a group of responses has reward variance.

Prompt i depends only on (seed, i): `generate_prompts(5, s)` is a prefix of `generate_prompts(10, s)`.

Conflicting pairs are never drawn together:

    instruction id                  instruction id                  why
    change_case:english_lowercase   change_case:english_capital     opposite cases
    startend:quotation              startend:end_checker            both claim the last character
    startend:quotation              detectable_content:postscript   the P.S. would follow the closing quote
    startend:end_checker            detectable_content:postscript   both claim the last line
    keywords:forbidden_words        any                             a forbidden word the other
                                                                    one requires (keyword, end phrase)
"""

from __future__ import annotations

import hashlib
import random
import re

from rtt.constraints import describe

TASKS = (
    "Write a short note about {topic}.",
    "Describe {topic} in a few sentences.",
    "Give three tips about {topic}.",
    "Explain {topic} to a child.",
    "Write a product blurb for a book about {topic}.",
    "Write a short email to a friend about {topic}.",
    "Write a short poem about {topic}.",
    "Tell a very short story about {topic}.",
    "List a few facts about {topic}.",
    "Write a short diary entry about {topic}.",
    "Write a social media post about {topic}.",
    "Why do people like {topic}? Answer briefly.",
)

# topic -> words a response on it naturally uses (the keyword pool)
TOPICS = {
    "the ocean": ("ocean", "waves", "fish"),
    "coffee": ("coffee", "beans", "morning"),
    "bicycles": ("bike", "wheels", "ride"),
    "gardening": ("garden", "plants", "soil"),
    "the moon": ("moon", "night", "light"),
    "rainy days": ("rain", "umbrella", "clouds"),
    "dogs": ("dog", "walk", "play"),
    "cats": ("cat", "sleep", "purr"),
    "learning to cook": ("cook", "kitchen", "recipe"),
    "a city park": ("park", "trees", "bench"),
    "libraries": ("library", "books", "read"),
    "the mountains": ("mountain", "snow", "climb"),
    "baking bread": ("bread", "oven", "flour"),
    "recycling": ("recycle", "plastic", "waste"),
    "honey bees": ("bees", "honey", "flowers"),
    "winter": ("winter", "cold", "ice"),
    "the night sky": ("stars", "sky", "dark"),
    "music practice": ("music", "practice", "song"),
    "trains": ("train", "station", "travel"),
    "drinking water": ("water", "health", "glass"),
    "chess": ("chess", "board", "move"),
    "volcanoes": ("volcano", "lava", "eruption"),
    "sleep": ("sleep", "bed", "rest"),
    "friendship": ("friend", "trust", "share"),
    "the desert": ("desert", "sand", "heat"),
    "apples": ("apple", "tree", "fruit"),
    "rivers": ("river", "water", "boat"),
    "the internet": ("internet", "computer", "online"),
    "a museum visit": ("museum", "art", "history"),
    "camping": ("tent", "fire", "forest"),
}

FORBIDDEN_POOL = ("very", "really", "thing", "stuff", "basically", "actually", "literally", "nice")
END_PHRASES = (
    "Is there anything else I can help with?",
    "Thank you for reading.",
    "Have a great day!",
    "Let me know if you have any questions.",
)

# how often each instruction is drawn, relative; the first group is what a small model
# satisfies some of the time
WEIGHTS = {
    "punctuation:no_comma": 3,
    "keywords:existence": 3,
    "length_constraints:number_words": 3,
    "change_case:english_lowercase": 2,
    "startend:end_checker": 2,
    "detectable_format:title": 2,
    "detectable_content:postscript": 2,
    "keywords:forbidden_words": 1,
    "keywords:frequency": 1,
    "change_case:english_capital": 1,
    "startend:quotation": 1,
    "detectable_format:number_bullet_lists": 1,
}

CONFLICTING_IDS = frozenset({
    frozenset({"change_case:english_lowercase", "change_case:english_capital"}),
    frozenset({"startend:quotation", "startend:end_checker"}),
    frozenset({"startend:quotation", "detectable_content:postscript"}),
    frozenset({"startend:end_checker", "detectable_content:postscript"}),
})

# the imperative wording used inside the prompt (the rubric item uses `describe`)
INSTRUCTIONS = {
    "punctuation:no_comma": "Do not use any commas.",
    "keywords:existence": "Include {keywords}.",
    "keywords:forbidden_words": "Do not use {forbidden_words}.",
    "keywords:frequency": 'Use the word "{keyword}" {relation} {frequency} times.',
    "change_case:english_lowercase": "Write everything in lowercase letters, with no capital letters.",
    "change_case:english_capital": "Write everything in capital letters.",
    "length_constraints:number_words": "Answer in {relation} {num_words} words.",
    "detectable_format:title": "Give your answer a title in double angular brackets, like <<my title>>.",
    "startend:end_checker": 'End your response with the exact phrase "{end_phrase}".',
    "detectable_content:postscript": "At the end, add a postscript starting with {postscript_marker}",
    "startend:quotation": "Wrap your whole response in double quotation marks.",
    "detectable_format:number_bullet_lists": "Use exactly {num_bullets} bullet points, each a line starting with *.",
}


def _sample_kwargs(instruction_id: str, topic_words: tuple[str, ...], rng: random.Random) -> dict:
    if instruction_id == "keywords:existence":
        return {"keywords": rng.sample(topic_words, rng.choice((1, 1, 2)))}
    if instruction_id == "keywords:forbidden_words":
        return {"forbidden_words": rng.sample(FORBIDDEN_POOL, rng.choice((1, 2)))}
    if instruction_id == "keywords:frequency":
        relation = rng.choice(("less than", "at least"))
        return {"keyword": rng.choice(topic_words), "frequency": rng.choice((2, 3)), "relation": relation}
    if instruction_id == "length_constraints:number_words":
        if rng.random() < 0.8:
            return {"num_words": rng.choice((40, 60, 80)), "relation": "less than"}
        return {"num_words": rng.choice((20, 30)), "relation": "at least"}
    if instruction_id == "startend:end_checker":
        return {"end_phrase": rng.choice(END_PHRASES)}
    if instruction_id == "detectable_content:postscript":
        return {"postscript_marker": "P.S." if rng.random() < 0.8 else "P.P.S"}
    if instruction_id == "detectable_format:number_bullet_lists":
        return {"num_bullets": rng.choice((2, 3, 4))}
    return {}


def _required_text(constraint: dict) -> str:
    """Text a constraint asks the response to contain."""
    kwargs = constraint["kwargs"]
    return " ".join([*kwargs.get("keywords", ()), kwargs.get("keyword", ""), kwargs.get("end_phrase", "")])


def conflicts(a: dict, b: dict) -> bool:
    """Whether two constraints ({"instruction_id", "kwargs"}) cannot be asked for together."""
    if a["instruction_id"] == b["instruction_id"]:
        return True
    if frozenset({a["instruction_id"], b["instruction_id"]}) in CONFLICTING_IDS:
        return True
    for forbidding, other in ((a, b), (b, a)):
        for word in forbidding["kwargs"].get("forbidden_words", ()):
            if re.search(rf"\b{re.escape(word)}\b", _required_text(other), re.IGNORECASE):
                return True
    return False


def _digest(seed: int, index: int) -> bytes:
    return hashlib.sha256(f"rtt-builtin:{seed}:{index}".encode()).digest()


def _words(words: list[str], conjunction: str) -> str:
    """'the word "a"' or 'the words "a" and "b"'."""
    return ("the word " if len(words) == 1 else "the words ") + f" {conjunction} ".join(f'"{w}"' for w in words)


def _instruction(constraint: dict) -> str:
    kwargs = dict(constraint["kwargs"])
    if "keywords" in kwargs:
        kwargs["keywords"] = _words(kwargs["keywords"], "and")
    if "forbidden_words" in kwargs:
        kwargs["forbidden_words"] = _words(kwargs["forbidden_words"], "or")
    return INSTRUCTIONS[constraint["instruction_id"]].format(**kwargs)


def make_prompt(seed: int, index: int, max_constraints: int = 3) -> dict:
    """Prompt `index` of the built-in set for `seed`."""
    digest = _digest(seed, index)
    rng = random.Random(int.from_bytes(digest[:8], "big"))
    topic = rng.choice(sorted(TOPICS))
    task = rng.choice(TASKS).format(topic=topic)
    chosen: list[dict] = []
    candidates = list(WEIGHTS)
    wanted = rng.randint(1, max_constraints)
    while len(chosen) < wanted and candidates:
        instruction_id = rng.choices(candidates, weights=[WEIGHTS[c] for c in candidates])[0]
        candidates.remove(instruction_id)
        constraint = {"instruction_id": instruction_id,
                      "kwargs": _sample_kwargs(instruction_id, TOPICS[topic], rng)}
        if not any(conflicts(constraint, other) for other in chosen):
            chosen.append(constraint)
    instructions = [_instruction(c) for c in chosen]
    return {
        "prompt_id": "builtin-" + digest.hex()[:16],
        "prompt": " ".join([task, *instructions]),
        "task": task,
        "constraints": [{**c, "text": describe(c["instruction_id"], c["kwargs"])} for c in chosen],
    }


def generate_prompts(n: int, seed: int, max_constraints: int = 3) -> list[dict]:
    """n prompts, each {"prompt_id", "prompt", "task", "constraints": [{"instruction_id",
    "kwargs", "text"}]}, deterministic in seed. max_constraints above what is compatible yields
    as many as fit."""
    if n < 0 or max_constraints < 1:
        raise ValueError(f"need n >= 0 and max_constraints >= 1, got n={n}, max_constraints={max_constraints}")
    return [make_prompt(seed, i, max_constraints) for i in range(n)]


def split_prompts(prompts: list[dict], eval_fraction: float, seed: int) -> tuple[list[dict], list[dict]]:
    """(train, eval): round(len * eval_fraction) prompts drawn by seed go to eval; both keep
    the input order."""
    if not 0.0 <= eval_fraction <= 1.0:
        raise ValueError(f"eval_fraction must be in [0, 1], got {eval_fraction}")
    order = list(range(len(prompts)))
    random.Random(seed).shuffle(order)
    held_out = set(order[: round(len(prompts) * eval_fraction)])
    train = [p for i, p in enumerate(prompts) if i not in held_out]
    heldout = [p for i, p in enumerate(prompts) if i in held_out]
    return train, heldout
