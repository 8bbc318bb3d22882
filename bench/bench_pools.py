"""What sending a pipeline's stages to work pools costs (`stages_on_pools`), against running them in
the pipeline's own process, on one Prefect server and one host.

    python bench/bench_pools.py [--out bench/results/pools.json]

The set-up of docs/SCALING.md on this host (`rtt.testing.prefect_server.run_on_pools`): the `gpu`
and `cpu` pools, `rtt deploy`, a worker per pool, and the `pipeline-pools` deployment run on a
one-round smoke pipeline (gold relevance: rubrics, a base eval, GRPO, eval). Then the same pipeline
as one `rtt run` process against the same server. It checks that every stage ran on its pool and
completed, then writes both pipelines' wall times and, per dispatched stage, the flow run's
seconds from being scheduled to starting (worker pick-up) and from starting to ending (a fresh
process importing rtt, plus the stage).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import tempfile
import time
from pathlib import Path

from rtt.stages import get_stage
from rtt.testing.loopback import BIN
from rtt.testing.prefect_server import PrefectServer, run_on_pools

SETTINGS = ["rounds=1", "grpo.relevance=gold", "rubrics.n_prompts=8", "eval.max_new_tokens=8"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", default="bench/results/pools.json")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp, PrefectServer(Path(tmp)) as server:
        root = Path(tmp)
        pools = run_on_pools(server, root, [f"data_dir={root / 'pools'}", f"tracking_uri={root / 'mlflow'}", *SETTINGS])
        assert pools["state"] == "COMPLETED", (root / "gpu.log").read_text()[-3000:]
        stages = []
        for deployment, pool, state, subflow, start, end in pools["runs"]:
            stage = deployment.rsplit("-", 1)[0]
            if deployment == "pipeline-pools":
                continue
            assert pool == get_stage(stage).pool and state == "COMPLETED" and subflow, (deployment, pool, state)
            stages.append({"deployment": deployment, "pool": pool, "run_s": round(end - start, 2)})
        sets = [
            w
            for s in [f"data_dir={root / 'local'}", f"tracking_uri={root / 'mlflow2'}", *SETTINGS]
            for w in ("--set", s)
        ]
        started = time.perf_counter()
        local = subprocess.run(
            [str(BIN / "rtt"), "run", "pipeline", "--config", "smoke", *sets],
            env={**os.environ, "PREFECT_API_URL": server.api},
            capture_output=True,
            text=True,
        )
        in_process_s = time.perf_counter() - started
        assert local.returncode == 0, local.stderr[-3000:]
    result = {
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version()},
        "settings": ["--config smoke", *SETTINGS],
        "on_pools_s": round(pools["wall_s"], 1),
        "in_process_s": round(in_process_s, 1),
        "stages": stages,
        "note": "on_pools_s: the pipeline-pools flow run (the worker's process start excluded); in_process_s: "
        "`rtt run pipeline` against the same server, process start included",
    }
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
