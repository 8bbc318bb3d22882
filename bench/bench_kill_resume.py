"""Kill-and-resume sweep: real `rtt run pipeline` processes SIGKILLed at every kind of moment, resumed.

    python bench/bench_kill_resume.py [--rounds 1] [--times-per-stage 2] [--writes 30] [--saves 8] [--seed 0]
                                      [--out bench/results/kill_resume.json]

One uninterrupted smoke run is the reference (its stage timeline places the kills). Then, each in a
fresh lake: SIGKILL at seeded uniform moments inside every stage, at the n-th Parquet write
(between temp file and rename), in the n-th checkpoint save (files written, not swapped in) and
between the n-th save's two renames; rerun with the same run id; compare rows per table,
duplicated keys, the deterministic columns, the final policy's tensors, the MLflow parent's
status and leftover temp files with the reference (`rtt.testing.kill_resume`). A write or save count past
the run's last lets the run finish: reported as not killed.
"""

from __future__ import annotations

import argparse
import json
import platform
import tempfile
import time
from pathlib import Path

from rtt.testing.kill_resume import kill_points, run_pipeline, snapshot, trial

RUN_ID = "kr-1"


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--rounds", type=int, default=1)
    p.add_argument("--times-per-stage", type=int, default=2)
    p.add_argument("--writes", type=int, default=30)
    p.add_argument("--saves", type=int, default=8)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", default="bench/results/kill_resume.json")
    args = p.parse_args()
    overrides = [f"rounds={args.rounds}"]
    start = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        (root / "reference").mkdir()
        reference = run_pipeline(root / "reference", RUN_ID, overrides)
        assert reference.proc.returncode == 0, reference.output[-3000:]
        expected = snapshot(root / "reference", RUN_ID)
        points = kill_points(reference, args.times_per_stage, args.writes, args.saves, args.seed)
        trials = []
        for i, point in enumerate(points):
            trials.append(trial(root / f"t{i}", RUN_ID, overrides, point, expected))
            t = trials[-1]
            print(
                f"{i + 1}/{len(points)} {t['point']}: killed={t['killed']} in {t['killed_in']}, resume rc "
                f"{t['resume_rc']}, {t['rows_compared']} rows, {'OK' if not t['differences'] else t['differences']}",
                flush=True,
            )
    killed = [t for t in trials if t["killed"]]
    result = {
        "machine": platform.platform(),
        "settings": vars(args),
        "seconds": round(time.perf_counter() - start),
        "reference_rows": {k: v["rows"] for k, v in expected["tables"].items()},
        "reference_stage_s": {
            k: [round(a, 2), round(b, 2) if b else b] for k, (a, b) in reference.stage_times().items()
        },
        "kill_points_tried": len(trials),
        "killed": len(killed),
        "finished_before_the_point": len(trials) - len(killed),
        "stages_killed_in": sorted({t["killed_in"] for t in killed if t["killed_in"]}),
        "rows_compared": sum(t["rows_compared"] for t in trials),
        "resumed_identical": sum(not t["differences"] and t["resume_rc"] == 0 for t in trials),
        "failures": [t for t in trials if t["differences"] or t["resume_rc"] != 0],
        "trials": trials,
    }
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps({k: v for k, v in result.items() if k != "trials"}, indent=2))


if __name__ == "__main__":
    main()
