"""Kill-and-resume checks on real pipeline processes (used by tests/flows and bench/bench_kill_resume.py).

A `PipelineProcess` is `rtt run pipeline` in a subprocess whose log lines are read as they come,
so a test can act when a stage starts (`[grpo-r0] started`) or ends (`[grpo-r0] {summary}`):
SIGKILL it, Ctrl-C it, stop it. `snapshot` describes what a run left in its lake and MLflow store:
rows per table, duplicated keys, a digest of the deterministic columns, leftover temp files, the
MLflow parent's status, and a digest of the last round's policy tensors. Two snapshots of the same
run id and settings must be equal whatever happened to the processes in between.
"""

from __future__ import annotations

import hashlib
import os
import re
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from rtt.data.store import Store
from rtt.tracking import run_statuses

# Each table's key within a run: no two rows of a run may share it.
KEYS = {
    "prompts": ("prompt_id",),
    "rubrics": ("item_id",),
    "rollouts": ("rollout_id",),
    "verdicts": ("verdict_id",),
    "token_scores": ("rollout_id", "item_id"),
    "train_steps": ("round", "step"),
    "disc_metrics": ("round", "split", "opt_step", "kind"),
    "evals": ("round", "checkpoint", "benchmark", "metric"),
    "llm_calls": ("stage", "round", "step", "request_key"),
    "generations": ("round", "benchmark", "prompt_id", "prompt_key"),
}
# Columns that a rerun must reproduce exactly (times and paths may differ).
DETERMINISTIC = {
    "rollouts": ("rollout_id", "token_ids", "reward"),
    "verdicts": ("verdict_id", "verdict", "token_labels"),
    "train_steps": ("round", "step", "global_step", "reward_mean", "loss"),
    "evals": ("round", "benchmark", "metric", "value"),
}
STAGE_LINE = re.compile(r"\[([a-z]+(?:-r-?\d+)?)\] (started|\{)")
RTT = str(Path(sys.executable).with_name("rtt"))
ONE_ROUND = ["rounds=1", "grpo.steps=5"]
"""The smoke run these tests kill and resume. Five GRPO steps, not the preset's two, so that a Ctrl-C
sent at "grpo round 0 step 0" lands inside GRPO: the process acted on it 0.85 s later here, when the
preset's two steps were nearly over."""


def default_sigint() -> None:
    """In the child before exec: SIGINT to its default disposition."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def pipeline_command(root: Path, run_id: str, overrides: list[str], preset: str = "smoke") -> list[str]:
    sets = [f"data_dir={root / 'data'}", f"tracking_uri={root / 'mlflow'}", *overrides]
    return [RTT, "run", "pipeline", "--config", preset, *[w for s in sets for w in ("--set", s)], "--run-id", run_id]


@dataclass
class PipelineProcess:
    """A pipeline subprocess with its output lines, each with the monotonic time it arrived."""

    command: list[str]
    cwd: Path
    crash_at: str | None = None
    prefect_api: str | None = None
    """A Prefect server's API for its flow runs; None: `rtt run` starts a temporary one, as for a user."""
    lines: list[tuple[float, str]] = field(default_factory=list)

    def __post_init__(self):
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        env.pop("RTT_CRASH_AT", None)
        if self.crash_at:
            env["RTT_CRASH_AT"] = self.crash_at
        if self.prefect_api:
            env["PREFECT_API_URL"] = self.prefect_api
        # its own process group, as a shell job is: Ctrl-C reaches the group, and what a killed
        # process leaves running (Prefect's ephemeral API server) is stopped with it in `finish`.
        # SIGINT back to its default first, as a terminal's job has it: under a parent that ignores
        # it (a background job of a script, `nohup`), the child inherits "ignore", Python then installs
        # no KeyboardInterrupt handler, and the Ctrl-C these tests send would be lost.
        self.proc = subprocess.Popen(
            self.command,
            cwd=self.cwd,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            errors="replace",
            start_new_session=True,
            preexec_fn=default_sigint,
        )
        self.started = time.monotonic()
        self.changed = threading.Condition()
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self) -> None:
        for line in self.proc.stdout:
            with self.changed:
                self.lines.append((time.monotonic(), line.rstrip("\n")))
                self.changed.notify_all()
        with self.changed:
            self.changed.notify_all()

    @property
    def output(self) -> str:
        return "\n".join(line for _, line in self.lines)

    def wait_for(self, text: str, timeout: float = 600) -> bool:
        """Wait until a line contains `text` (True) or the process has ended without one (False)."""
        deadline = time.monotonic() + timeout
        with self.changed:
            while not any(text in line for _, line in self.lines):
                if not self.reader.is_alive():
                    return False
                if time.monotonic() > deadline:
                    raise TimeoutError(f"no line with {text!r} after {timeout} s:\n{self.output[-3000:]}")
                self.changed.wait(1.0)
        return True

    def send(self, sig: int) -> None:
        """A signal to the rtt process alone (SIGKILL: as the OOM killer or a power cut would)."""
        if self.proc.poll() is None:
            self.proc.send_signal(sig)

    def interrupt(self) -> None:
        """Ctrl-C as a terminal sends it: SIGINT to the whole process group."""
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGINT)

    def finish(self, timeout: float = 600) -> int:
        try:
            rc = self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            raise TimeoutError(f"pipeline still running after {timeout} s:\n{self.output[-3000:]}") from None
        finally:
            self.stop_leftovers()
        self.reader.join(10)
        return rc

    def stop_leftovers(self) -> None:
        """SIGKILL what the process left running in its group (a SIGKILLed rtt cannot stop its
        Prefect server; a shell closing the job would do the same)."""
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass

    def stage_times(self) -> dict[str, tuple[float, float | None]]:
        """stage name -> (start, end or None), seconds since the process started."""
        out: dict[str, tuple[float, float | None]] = {}
        for t, line in self.lines:
            for name, what in STAGE_LINE.findall(line):
                if what == "started":
                    out[name] = (t - self.started, None)
                elif name in out:
                    out[name] = (out[name][0], t - self.started)
        return out

    def last_stage(self) -> str | None:
        """The stage running (or last started) when the process ended."""
        times = self.stage_times()
        return max(times, key=lambda n: times[n][0]) if times else None


def run_pipeline(
    root: Path,
    run_id: str,
    overrides: list[str],
    crash_at: str | None = None,
    timeout: float = 600,
    prefect_api: str | None = None,
) -> PipelineProcess:
    """Run a pipeline process to its end (or its injected crash)."""
    process = PipelineProcess(pipeline_command(root, run_id, overrides), root, crash_at, prefect_api)
    process.finish(timeout)
    return process


def kill_during(
    root: Path,
    run_id: str,
    overrides: list[str],
    stage: str,
    delay: float,
    sig: int = signal.SIGKILL,
    timeout: float = 600,
) -> PipelineProcess:
    """Start a pipeline; `delay` seconds after `stage` starts, send `sig` (SIGKILL: as a power cut)."""
    process = PipelineProcess(pipeline_command(root, run_id, overrides), root)
    if process.wait_for(f"[{stage}] started", timeout):
        time.sleep(delay)
        process.send(sig)
    process.finish(timeout)
    return process


def policy_digest(run_dir: Path) -> str | None:
    """sha256 over the (name, dtype, shape, bytes) of every tensor of the last round's policy."""
    import torch
    from safetensors.torch import load_file

    rounds = sorted(run_dir.glob("policy/round_*/model.safetensors"), key=lambda p: int(p.parent.name.split("_")[1]))
    if not rounds:
        return None
    digest = hashlib.sha256(rounds[-1].parent.name.encode())
    for name, tensor in sorted(load_file(rounds[-1]).items()):
        digest.update(f"{name}{tensor.dtype}{tuple(tensor.shape)}".encode())
        digest.update(tensor.contiguous().view(-1).view(dtype=torch.uint8).numpy().tobytes())
    return digest.hexdigest()


def table_facts(store: Store, run_id: str) -> dict[str, dict]:
    """Per table: rows, rows whose key repeats another row's, and a digest of the deterministic columns."""
    facts = {}
    for table, key in KEYS.items():
        rows = store.rows(table, run_id)
        keys = [tuple(str(r[k]) for k in key) for r in rows]
        columns = DETERMINISTIC.get(table)
        content = sorted(repr(tuple(r[c] for c in columns)) for r in rows) if columns else []
        facts[table] = {
            "rows": len(rows),
            "duplicates": len(keys) - len(set(keys)),
            "digest": hashlib.sha256("\n".join(content).encode()).hexdigest()[:16] if columns else None,
        }
    return facts


def mlflow_facts(tracking: Path, run_id: str) -> dict:
    """The pipeline parent runs' statuses and how many of the run's MLflow runs are still RUNNING."""
    statuses = run_statuses(str(tracking), "rtt", run_id)
    return {
        "parents": [status for stage, status in statuses if stage == "pipeline"],
        "running": sum(status == "RUNNING" for _, status in statuses),
    }


def leftovers(store: Store, run_id: str) -> list[str]:
    """Temp files and folders a write or a save left behind (an object store's writes leave none)."""
    found = [
        *store.run_dir(run_id).glob("**/*.tmp"),
        *store.run_dir(run_id).glob("**/*.old"),
        *([] if store.remote else store.root.glob(f"tables/*/{run_id}/.*.tmp")),
    ]
    return sorted(str(p) for p in found)


def snapshot(root: Path, run_id: str, data_dir: str | None = None) -> dict:
    """What run `run_id` left in its lake (`root/data`, or `data_dir`) and in `root/mlflow`."""
    store = Store(data_dir or root / "data")
    return {
        "tables": table_facts(store, run_id),
        "mlflow": mlflow_facts(root / "mlflow", run_id),
        "policy": policy_digest(store.run_dir(run_id)),
        "leftovers": leftovers(store, run_id),
    }


def differences(expected: dict, got: dict) -> list[str]:
    """What `got` (a killed-and-resumed run) does differently from `expected` (an uninterrupted one)."""
    out = []
    for table, facts in expected["tables"].items():
        if got["tables"][table] != facts:
            out.append(f"{table}: expected {facts}, got {got['tables'][table]}")
    if got["mlflow"]["parents"] != ["FINISHED"] or got["mlflow"]["running"]:
        out.append(f"mlflow: expected one FINISHED parent and nothing RUNNING, got {got['mlflow']}")
    if got["policy"] != expected["policy"]:
        out.append(f"policy: expected tensors {expected['policy']}, got {got['policy']}")
    if got["leftovers"]:
        out.append(f"leftover temp files: {got['leftovers']}")
    return out


@dataclass
class KillPoint:
    """Where to kill a pipeline: `crash_at` (an RTT_CRASH_AT spec), or `stage` + `delay` seconds (SIGKILL)."""

    crash_at: str | None = None
    stage: str | None = None
    delay: float = 0.0

    def __str__(self) -> str:
        return self.crash_at or f"{self.stage}+{self.delay:.2f}s"


def kill_points(
    reference: PipelineProcess, times_per_stage: int, writes: int, saves: int, seed: int
) -> list[KillPoint]:
    """Seeded uniform moments inside each stage of the reference run's timeline, then the first
    `writes` Parquet writes and `saves` checkpoint saves and swaps (a count past the run's last one
    simply lets the run finish, and is reported as such)."""
    import random

    rng = random.Random(seed)
    points = [
        KillPoint(stage=name, delay=rng.uniform(0, end - start))
        for name, (start, end) in reference.stage_times().items()
        for _ in range(times_per_stage)
    ]
    points += [KillPoint(crash_at=f"store.write:{n}") for n in range(1, writes + 1)]
    points += [KillPoint(crash_at=f"checkpoint.{what}:{n}") for what in ("save", "swap") for n in range(1, saves + 1)]
    return points


def trial(
    root: Path, run_id: str, overrides: list[str], point: KillPoint, expected: dict, timeout: float = 600
) -> dict:
    """Kill a fresh pipeline at `point`, resume it, compare with `expected` (an uninterrupted run's snapshot)."""
    root.mkdir(parents=True, exist_ok=True)
    if point.crash_at:
        killed = run_pipeline(root, run_id, overrides, point.crash_at, timeout)
    else:
        killed = kill_during(root, run_id, overrides, point.stage, point.delay, timeout=timeout)
    resumed = run_pipeline(root, run_id, overrides, timeout=timeout)
    got = snapshot(root, run_id)
    return {
        "point": str(point),
        "killed": killed.proc.returncode == -signal.SIGKILL,
        "killed_in": killed.last_stage(),
        "resume_rc": resumed.proc.returncode,
        "rows_compared": sum(t["rows"] for t in got["tables"].values()),
        "differences": differences(expected, got) if resumed.proc.returncode == 0 else [resumed.output[-2000:]],
    }
