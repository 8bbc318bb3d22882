"""Built-in prompts whose rubrics are all verifiable (METHOD.md section 8, last line).

A prompt is a short task on a topic ("Write a short note about coffee.", an email, a review, a
summary of a made-up situation...) followed by 1..max_constraints instructions, drawn from the
pool `kinds` names: "ifeval", IFEval's 25 instruction ids; "all", those plus rtt's 19 further
kinds (`rtt.constraints.extended`: word / sentence / paragraph ranges, phrases, lists, tables,
JSON keys, XML, headings, character classes). An id whose checker `rtt.constraints` does not
register is left out of the pool. Each instruction is one rule-graded rubric item whose text is
`rtt.constraints.describe(...)`. The easy items (no commas, a keyword, a word limit, lowercase,
an end phrase, a title, a postscript) carry the largest weights (2 to 3), so that a tiny (135M)
model satisfies some of them some of the time and a group of responses has reward variance; the
harder IFEval kinds (JSON, two responses, sections, paragraph counts...) weigh 0.25 to 1, rtt's
further kinds 0.3 to 1 (a word range and an opening phrase 1, a numbered list and forbidden
phrases 0.8, JSON keys and XML 0.3), so that with kinds="all" the easy items stay the most
frequent.

Prompt i depends only on (seed, i, max_constraints, kinds): `generate_prompts(5, s)` is a prefix
of `generate_prompts(10, s)`. Prompt ids differ between the two kinds, so the two sets never
collide in one table.

The instruction table (`SPECS`) and the conflict tables that keep combinations compatible are
in `rtt.generator.instructions`.

`conflicts(a, b)` is the pairwise test (all three layers on a pair), `compatible(constraints)`
the whole-set one; the generator only adds an item that keeps the set compatible, and a
wording's hints only name words the set allows. The tests build, for a sample of prompts, a
response that passes every item (a witness).

Never an IFEval prompt: the tests compare thousands of generated prompts with IFEval's 541
evaluation prompts (`rtt.testing.near_duplicates`) and assert that none is an exact or near
duplicate. The words prompts are made of are in `rtt.generator.vocabulary`.
"""

from __future__ import annotations

import hashlib
import random
import string

from rtt.constraints import describe
from rtt.constraints.checkers import LANGUAGES as LANGUAGE_NAMES
from rtt.generator.instructions import (
    BASE_NEEDS,
    CONFLICTING_IDS,
    ID,
    KWARG_CONFLICTS,
    POOLS,
    SPECS,
    Context,
    Needs,
    quoted,
    text_needs,
)
from rtt.generator.vocabulary import (
    AUDIENCES,
    DAYS,
    NAMES,
    ORDINALS,
    PLACES,
    PRODUCTS,
    RELATION_WORDS,
    SITUATIONS,
    TASKS,
    TOPIC_NAMES,
    TOPICS,
)

# ---------------------------------------------------------------------------------------------
# Compatibility


def needs(constraint: dict) -> Needs:
    return SPECS[constraint["instruction_id"]].needs(constraint["kwargs"])


def _ruled_out(a: dict, b: dict) -> bool:
    """The pairwise tables: same id, CONFLICTING_IDS, KWARG_CONFLICTS."""
    ida, idb = a["instruction_id"], b["instruction_id"]
    if ida == idb or frozenset({ida, idb}) in CONFLICTING_IDS:
        return True
    for x, y, rule, _ in KWARG_CONFLICTS:
        if (ida, idb) == (x, y) and rule(a["kwargs"], b["kwargs"]):
            return True
        if (idb, ida) == (x, y) and rule(b["kwargs"], a["kwargs"]):
            return True
    return False


def _limits_hold(constraints: list[dict], extra: Needs | None = None) -> bool:
    """Every limiting item fits BASE_NEEDS plus the needs of all the other items (plus `extra`:
    text a wording asks for)."""
    all_needs = [needs(c) for c in constraints]
    for i, c in enumerate(constraints):
        limit = SPECS[c["instruction_id"]].limit
        if limit is None:
            continue
        others = BASE_NEEDS if extra is None else BASE_NEEDS + extra
        for j, n in enumerate(all_needs):
            if j != i:
                others = others + n
        if not limit(c["kwargs"], others):
            return False
    return True


def conflicts(a: dict, b: dict) -> bool:
    """Whether two constraints ({"instruction_id", "kwargs"}) cannot be asked for together."""
    return _ruled_out(a, b) or not _limits_hold([a, b])


def compatible(constraints: list[dict]) -> bool:
    """Whether a set of constraints can be asked for together: no pair is ruled out by the
    tables, and every limiting item fits the needs of all the others (limits only get harder
    as needs add up, so this implies `not conflicts(a, b)` for every pair)."""
    return not any(_ruled_out(a, b) for k, a in enumerate(constraints) for b in constraints[k + 1 :]) and _limits_hold(
        constraints
    )


# ---------------------------------------------------------------------------------------------
# Generation


KINDS = ("ifeval", "all")
"""`kinds`: IFEval's 25 ids only, or those plus rtt's further kinds."""


def _digest(seed: int, index: int, kinds: str, only: tuple[str, ...] = ()) -> bytes:
    """IFEval-only prompts keep the digest they had before the further kinds existed; a restricted
    pool (`only`) is part of the key, so its prompts never share an id with the full pool's."""
    key = f"rtt-builtin:{seed}:{index}" if kinds == "ifeval" else f"rtt-builtin:{kinds}:{seed}:{index}"
    if only:
        key += ":only=" + ",".join(sorted(only))
    return hashlib.sha256(key.encode()).digest()


LISTED = {
    "keywords": ("word", "and"),
    "forbidden_words": ("word", "or"),
    "phrases": ("phrase", "and"),
    "keys": ("key", "and"),
    "characters": ("character", "or"),
}
"""kwargs shown in wordings as 'the word "a"', 'the words "a" and "b"': key -> (noun, conjunction)
(phrases of one word each are words)."""


def _listed(key: str, items: list[str] | str) -> str:
    noun, conjunction = LISTED[key]
    if noun == "phrase" and not any(" " in item for item in items):
        noun = "word"
    return f"the {noun}{'' if len(items) == 1 else 's'} " + quoted(list(items), conjunction)


def _instruction(constraint: dict, ctx: Context, rng: random.Random, chosen: list[dict]) -> str:
    """The constraint's wording; `chosen`, the prompt's constraints, decides what hints may ask for."""
    spec = SPECS[constraint["instruction_id"]]
    fields = {"topic": ctx.topic}
    if spec.hints is not None:
        fields |= spec.hints(constraint["kwargs"], ctx, rng, lambda text: _limits_hold(chosen, text_needs(text)))
    for key, value in constraint["kwargs"].items():
        if key in LISTED:
            value = _listed(key, value)
        elif key in ("relation", "let_relation", "capital_relation"):
            value = RELATION_WORDS[value]
        elif key == "language":
            value = LANGUAGE_NAMES[value]
        elif key == "nth_paragraph":
            fields["nth_ordinal"] = ORDINALS[value - 1]
        fields[key] = value
    return rng.choice(spec.wordings).format(**fields)


def _fill(template: str, topic: str, rng: random.Random, values: dict | None = None) -> str:
    """The template with {topic} and whatever other slots it has filled in (a situation shares
    the task's slots: the same {name} in both)."""
    values = {"topic": topic} if values is None else values
    for _, name, _, _ in string.Formatter().parse(template):
        if name is None or name in values:
            continue
        if name == "situation":
            values[name] = _fill(rng.choice(SITUATIONS), topic, rng, values)
        elif name == "other":
            values[name] = rng.choice([t for t in TOPIC_NAMES if t != topic])
        else:
            pool = {"name": NAMES, "audience": AUDIENCES, "product": PRODUCTS, "place": PLACES, "day": DAYS}[name]
            values[name] = rng.choice(pool)
    text = template.format(**values)
    return text[0].upper() + text[1:]


def _draw(candidates: list[str], rng: random.Random) -> str:
    instruction_id = rng.choices(candidates, weights=[SPECS[c].weight for c in candidates])[0]
    candidates.remove(instruction_id)
    return instruction_id


def _check_kinds(kinds: str) -> None:
    if kinds not in KINDS:
        raise ValueError(f"kinds must be one of {', '.join(map(repr, KINDS))}, got {kinds!r}")


def pool(kinds: str, only: list[str] | tuple[str, ...] = ()) -> list[str]:
    """The ids drawn from: those of `kinds`, restricted to `only` when given (ValueError naming an
    id outside the pool)."""
    _check_kinds(kinds)
    unknown = sorted(set(only) - set(POOLS[kinds]))
    if unknown:
        raise ValueError(f"rubrics.checkers: {unknown} not in the {kinds!r} pool; ids: {sorted(POOLS[kinds])}")
    return [i for i in POOLS[kinds] if not only or i in only]


def make_prompt(
    seed: int, index: int, max_constraints: int = 3, kinds: str = "all", only: list[str] | tuple[str, ...] = ()
) -> dict:
    """Prompt `index` of the built-in set for `seed`, drawing from the ids of `kinds` (only those in
    `only`, when given)."""
    candidates = pool(kinds, only)
    digest = _digest(seed, index, kinds, tuple(only))
    rng = random.Random(int.from_bytes(digest[:8], "big"))
    topic = rng.choice(TOPIC_NAMES)
    wanted = rng.randint(1, max_constraints)
    first = _draw(candidates, rng)
    task = _fill(rng.choice(SPECS[first].tasks or TASKS), topic, rng)
    ctx = Context(topic, TOPICS[topic], task)
    chosen = [{"instruction_id": first, "kwargs": SPECS[first].sample(ctx, rng)}]
    while len(chosen) < wanted and candidates:
        instruction_id = _draw(candidates, rng)
        if SPECS[instruction_id].tasks or any(
            frozenset({instruction_id, c["instruction_id"]}) in CONFLICTING_IDS for c in chosen
        ):
            continue
        for _ in range(3):  # kwargs-level clashes: try other kwargs
            constraint = {"instruction_id": instruction_id, "kwargs": SPECS[instruction_id].sample(ctx, rng)}
            if not any(_ruled_out(constraint, c) for c in chosen) and _limits_hold([*chosen, constraint]):
                chosen.append(constraint)
                break
    # the request to repeat comes right after the task, so "the request above" is the task
    ordered = sorted(chosen, key=lambda c: c["instruction_id"] != ID["repeat"])
    instructions = [_instruction(c, ctx, rng, ordered) for c in ordered]
    return {
        "prompt_id": "builtin-" + digest.hex()[:16],
        "prompt": " ".join([task, *instructions]),
        "task": task,
        "constraints": [{**c, "text": describe(c["instruction_id"], c["kwargs"])} for c in ordered],
    }


def generate_prompts(
    n: int, seed: int, max_constraints: int = 3, kinds: str = "all", only: list[str] | tuple[str, ...] = ()
) -> list[dict]:
    """n prompts, each {"prompt_id", "prompt", "task", "constraints": [{"instruction_id",
    "kwargs", "text"}]}, deterministic in seed. max_constraints above what is compatible yields
    as many as fit. kinds: "ifeval" (IFEval's 25 ids) or "all" (those plus rtt's further kinds)."""
    if n < 0 or max_constraints < 1:
        raise ValueError(f"need n >= 0 and max_constraints >= 1, got n={n}, max_constraints={max_constraints}")
    pool(kinds, only)  # a bad id fails before any prompt is made
    return [make_prompt(seed, i, max_constraints, kinds, only) for i in range(n)]


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
