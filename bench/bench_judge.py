"""LLM judge throughput against an OpenAI-compatible server with 50 ms latency: concurrency vs sequential.

    python bench/bench_judge.py [--latency-s 0.05] [--concurrency 1 4 16 64] [--out bench/results/judge.json]

The server (`python -m rtt.testing.llm_server`) runs in its own process, a fresh one per setting, so its
work does not share the client's interpreter. Each setting judges (response, item) pairs with
`judge.mode=llm`, one YES/NO request per pair, the cache off, at `judge.llm.max_concurrency=c`:
pairs per second, and the server's count of requests in flight at most. Sequential (c=1) sets the
unit: the ideal at c is c x sequential; the target (issue 6) is at least 80% of it. Also: the same
at c=16 with 30% injected faults (every kind), and a second pass answered by the cache.
"""

from __future__ import annotations

import argparse
import json
import platform
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path

import httpx

from rtt.config import JudgeConfig, LLMConfig
from rtt.data.items import RubricItem
from rtt.judge.verdicts import Case, Judge

ROOT = Path(__file__).resolve().parents[1]
WORDS = "the ocean is vast and blue while rivers run to the sea under a quiet sky".split()


@contextmanager
def server(latency_s: float, fault_rate: float = 0.0):
    """A server process; yields its base URL."""
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "rtt.testing.llm_server",
            "--latency-s",
            str(latency_s),
            "--fault-rate",
            str(fault_rate),
            "--seed",
            "1",
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        yield proc.stdout.readline().strip()
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def stats(base_url: str) -> dict:
    return httpx.get(base_url.removesuffix("/v1") + "/stats").json()


def cases(n_pairs: int, offset: int) -> list[Case]:
    """n_pairs pairs, 4 items per response, every request distinct."""
    out = []
    for p in range(n_pairs // 4):
        text = " ".join(WORDS[(p + j) % len(WORDS)] for j in range(30))
        items = [
            RubricItem(f"p{p}-i{k}", f"p{p}", k, f"Criterion {k} (set {offset})", 1.0, "llm", None, {})
            for k in range(4)
        ]
        out.append(Case(f"r{offset}-{p}", f"Write about water, request {offset}-{p}.", text, [], items))
    return out


def judge_pairs(
    base_url: str, concurrency: int, n_pairs: int, offset: int, cache_dir: str | None = None, **llm
) -> dict:
    cfg = JudgeConfig(
        mode="llm",
        llm=LLMConfig(
            base_url=base_url, model="bench", max_concurrency=concurrency, cache=cache_dir is not None, **llm
        ),
    )
    judge = Judge(cfg, cache_dir)
    batch = cases(n_pairs, offset)
    start = time.perf_counter()
    rows, answers = judge.judge("bench", 0, -1, batch)
    seconds = time.perf_counter() - start
    flat = [r for rs in rows for r in rs]
    return {
        "concurrency": concurrency,
        "pairs": len(flat),
        "seconds": round(seconds, 3),
        "pairs_per_s": round(len(flat) / seconds, 1),
        "unknown": sum(r["verdict"] == 0 for r in flat),
        "retries": sum(max(a.attempts - 1, 0) for a in answers),
        "cached": sum(a.cached for a in answers),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--latency-s", type=float, default=0.05)
    parser.add_argument("--concurrency", type=int, nargs="+", default=[1, 4, 16, 64])
    parser.add_argument("--out", default=str(ROOT / "bench" / "results" / "judge.json"))
    args = parser.parse_args()

    levels = []
    for c in args.concurrency:
        with server(args.latency_s) as url:
            judge_pairs(url, c, 8, offset=-1)  # warm up: connections, imports
            result = judge_pairs(url, c, max(80, 40 * c), offset=c)
            result["server_max_in_flight"] = stats(url)["max_in_flight"]
        levels.append(result)
        print(json.dumps(result), flush=True)
    sequential = levels[0]["pairs_per_s"] if args.concurrency[0] == 1 else None
    for level in levels:
        if sequential:
            level["ideal_pairs_per_s"] = round(sequential * level["concurrency"], 1)
            level["of_ideal"] = round(level["pairs_per_s"] / level["ideal_pairs_per_s"], 3)

    with server(args.latency_s, fault_rate=0.3) as url:
        faulty = judge_pairs(url, 16, 640, offset=1000, timeout_s=1.0, max_retries=8, backoff_s=0.05, max_backoff_s=0.5)
        faulty["server"] = stats(url)
    print(json.dumps(faulty), flush=True)
    with server(args.latency_s) as url, tempfile.TemporaryDirectory() as cache_dir:
        first = judge_pairs(url, 16, 640, offset=2000, cache_dir=cache_dir)
        second = judge_pairs(url, 16, 640, offset=2000, cache_dir=cache_dir)
        second["server_requests"] = stats(url)["requests"] - first["pairs"]

    report = {
        "machine": {"python": platform.python_version(), "platform": platform.platform()},
        "latency_s": args.latency_s,
        "levels": levels,
        "faults_30pct_c16": faulty,
        "cache": {"first": first, "second": second},
        "targets": {
            f"c{level['concurrency']}_within_20pct_of_ideal": level.get("of_ideal", 0) >= 0.8 for level in levels
        },
    }
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(report, indent=2) + "\n")
    for level in levels:
        print(
            f"c={level['concurrency']:3d}  {level['pairs_per_s']:8.1f} pairs/s  of ideal {level.get('of_ideal', 1):.2f}"
            f"  max in flight {level['server_max_in_flight']}"
        )
    print(
        f"30% faults at c=16: {faulty['pairs_per_s']} pairs/s, {faulty['unknown']} unknown, {faulty['retries']} retries"
    )
    print(f"cache: second pass {second['pairs_per_s']} pairs/s, {second['server_requests']} requests")


if __name__ == "__main__":
    main()
