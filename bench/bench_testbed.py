"""The method's regression benchmark: `rtt compare --config testbed` (every arm, 3 seeds) timed.

    python bench/bench_testbed.py [--seeds 3] [--arms a,b] [--out bench/results/testbed.json]

Runs the comparison in a fresh temporary lake (a real `rtt compare` process: Prefect, MLflow,
Parquet), then writes its report JSON with the wall time of the whole command, the machine, and
the checks the testbed exists for: RTT with exact (gold) relevance reaches the target (GRPO-AON's
final training reward) in fewer steps than GRPO-AON, and how much of that survives the learned
discriminator: as the paper normalizes (`rtt`) and with its scores below 0.5 counted as 0
(`rtt-t50`). The report page lands next to the JSON.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np


def steps(report: dict, arm: str) -> list[int | None]:
    return report["arms"][arm]["steps_to_target"] if arm in report["arms"] else []


def mean_steps(values: list[int | None], total: int) -> float | None:
    """Mean steps to target, a seed that never reached it counted as the whole budget."""
    return float(np.mean([total if v is None else v for v in values])) if values else None


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--seeds", type=int, default=3)
    p.add_argument("--arms", default=None)
    p.add_argument("--out", default="bench/results/testbed.json")
    args = p.parse_args()
    rtt = str(Path(sys.executable).with_name("rtt"))
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "report.json"
        command = [
            rtt,
            "compare",
            "--config",
            "testbed",
            "--seeds",
            str(args.seeds),
            "--out",
            str(out),
            "--set",
            f"data_dir={tmp}/data",
            "--set",
            f"tracking_uri={tmp}/mlflow",
            *(["--arms", args.arms] if args.arms else []),
        ]
        start = time.perf_counter()
        proc = subprocess.run(command, capture_output=True, text=True, env=os.environ | {"PYTHONUNBUFFERED": "1"})
        wall = time.perf_counter() - start
        if proc.returncode != 0:
            sys.exit(f"rtt compare failed ({proc.returncode}):\n{proc.stderr[-4000:]}")
        report = json.loads(out.read_text())
        page = Path(args.out).with_suffix(".html")
        page.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(next((Path(tmp) / "data" / "reports").glob("compare-*.html")), page)
    total = report["budget"]["grpo_steps_per_round"] * report["budget"]["rounds"]
    means = {a: mean_steps(steps(report, a), total) for a in ("rtt-gold", "grpo-aon", "rtt", "rtt-t50")}
    aon = means["grpo-aon"]
    report["bench"] = {
        "command": " ".join(command[1:]),
        "wall_s": round(wall, 1),
        "cpus": os.cpu_count(),
        "machine": platform.processor() or platform.machine(),
        "python": platform.python_version(),
        "mean_steps_to_target": {**means, "budget": total},
        "over_aon_steps": {a: round(m / aon, 3) for a, m in means.items() if m and aon and a != "grpo-aon"},
    }
    Path(args.out).write_text(json.dumps(report, indent=2) + "\n")
    print(json.dumps(report["bench"], indent=2))
    print(f"wrote {args.out} and {page}")


if __name__ == "__main__":
    main()
