"""Photograph the Prefect and MLflow UIs' pages of a small campaign in headless Chromium.

    python scripts/screenshots.py [--out docs/screenshots] [--config smoke]

Starts a Prefect server (UI on) and, in a temporary folder, runs a campaign of the preset (a start
and one continuation, as flow runs on that server), then `mlflow ui` on its store, and saves:
- prefect-flow-run.png     the continuation's flow-run page, Artifacts tab (summary, held-out table)
- prefect-artifacts.png    the Artifacts page (every stage's summary, eval tables, MLflow links)
- prefect-runs.png         the flow runs: each continuation with its pipeline and stage subflows
- mlflow-model.png         the registered policy: its versions, tags and the `best` alias
- mlflow-runs.png          the experiment's runs (one parent per continuation, stages nested)
Needs Debian's `chromium` (`apt-get install chromium`); not part of `make test`.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from rtt.testing.browser import Browser, chromium
from rtt.testing.loopback import answers, free_port, wait_for

REPO = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
SETTLE_S = 10
"""Seconds the UIs' scripts get to fetch and render a page (and again after a click)."""


def shoot(browser: Browser, url: str, out: Path, tab: str | None = None) -> None:
    """A screenshot of `url` once its scripts have rendered; with `tab`, after clicking the tab
    labelled so (the Prefect UI opens a flow run on its Logs tab whatever the URL says)."""
    click = (
        f"[...document.querySelectorAll('*')].filter(e => e.children.length === 0 && "
        f"e.textContent.trim() === {json.dumps(tab)}).forEach(e => e.click())"
        if tab
        else None
    )
    out.write_bytes(browser.visit(url, settle_s=SETTLE_S, script=click).screenshot)
    print(f"wrote {out}")


def run(cmd: list[str], env: dict) -> str:
    done = subprocess.run(cmd, env=env, cwd=REPO, capture_output=True, text=True)
    if done.returncode:
        raise SystemExit(f"{' '.join(cmd)} failed:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}")
    return done.stdout


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--out", default="docs/screenshots", help="folder for the PNG files")
    p.add_argument("--config", default="smoke", help="preset of the campaign")
    args = p.parse_args()
    if not chromium():
        raise SystemExit("needs Debian's chromium: apt-get install chromium")
    out = Path(args.out).resolve()
    out.mkdir(parents=True, exist_ok=True)
    root = Path(tempfile.mkdtemp(prefix="rtt-screens-"))
    prefect_port, mlflow_port = free_port(), free_port()
    api = f"http://127.0.0.1:{prefect_port}/api"
    env = {
        **os.environ,
        "PREFECT_HOME": str(root / "prefect"),
        "PREFECT_API_URL": api,
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
    }
    data, store = root / "data", root / "mlflow"
    procs = [
        subprocess.Popen(
            [str(BIN / "prefect"), "server", "start", "--host", "127.0.0.1", "--port", str(prefect_port)],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
    ]
    try:
        wait_for(lambda: answers(f"{api}/health"), 180, "the Prefect server")
        sets = [
            w
            for o in (f"data_dir={data}", f"tracking_uri={store}", f"tracking_ui=http://127.0.0.1:{mlflow_port}")
            for w in ("--set", o)
        ]
        run(
            [str(BIN / "rtt"), "campaign", "start", "demo-campaign", "--config", args.config, *sets, "--rounds", "1"],
            env,
        )
        run([str(BIN / "rtt"), "campaign", "continue", "demo-campaign", "--data-dir", str(data)], env)
        rows = json.loads(
            run(
                [
                    str(BIN / "rtt"),
                    "sql",
                    "SELECT flow_run_id FROM campaigns ORDER BY continuation DESC LIMIT 1",
                    "--data-dir",
                    str(data),
                    "--format",
                    "json",
                ],
                env,
            )
        )
        procs.append(
            subprocess.Popen(
                [
                    str(BIN / "mlflow"),
                    "ui",
                    "--backend-store-uri",
                    f"sqlite:///{store / 'mlflow.db'}",
                    "--host",
                    "127.0.0.1",
                    "--port",
                    str(mlflow_port),
                ],
                env=env,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                start_new_session=True,
            )
        )
        ui, mlflow_ui = f"http://127.0.0.1:{prefect_port}", f"http://127.0.0.1:{mlflow_port}"
        wait_for(lambda: answers(mlflow_ui), 180, "mlflow ui")
        with Browser() as browser:
            flow_run = f"{ui}/runs/flow-run/{rows[0]['flow_run_id']}"
            shoot(browser, flow_run, out / "prefect-flow-run.png", tab="Artifacts")
            shoot(browser, f"{ui}/artifacts", out / "prefect-artifacts.png")
            shoot(browser, f"{ui}/runs", out / "prefect-runs.png")
            shoot(browser, f"{mlflow_ui}/#/models/demo-campaign-policy", out / "mlflow-model.png")
            shoot(browser, f"{mlflow_ui}/#/experiments/1/runs", out / "mlflow-runs.png")
    finally:
        for proc in procs:
            os.killpg(proc.pid, 15)
        shutil.rmtree(root, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
