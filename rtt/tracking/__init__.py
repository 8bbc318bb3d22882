"""MLflow tracking, the one module that imports mlflow.

One parent run per pipeline run, one nested run per stage (`mlflow.parentRunId` tag), params =
the resolved config, metrics per step, summaries and checkpoint locations as tags/artifacts.
Runs are addressed by id through `MlflowClient`, not through mlflow's thread-local "active run",
so nesting holds whichever thread or process a stage runs in.

Telemetry is never fatal: the first failure logs a warning and turns the tracker into a no-op;
the training run goes on.
"""

from __future__ import annotations

import json
import logging
import tempfile
import time
from pathlib import Path

log = logging.getLogger(__name__)


def tracking_uri(uri: str) -> tuple[str, str | None]:
    """(tracking URI, artifact location). A plain path is a local store: SQLite + artifacts folder."""
    if "://" in uri:
        return uri, None
    root = Path(uri).resolve()
    root.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{root / 'mlflow.db'}", (root / "artifacts").as_uri()


class Tracker:
    """A handle on one MLflow run; every method swallows (and reports once) tracking failures."""

    def __init__(self, client=None, run_id: str | None = None, experiment_id: str | None = None):
        self.client, self.run_id, self.experiment_id = client, run_id, experiment_id

    @classmethod
    def open(cls, uri: str, experiment: str, run_name: str, parent_run_id: str | None = None, tags: dict | None = None) -> "Tracker":
        try:
            import mlflow
            from mlflow.tracking import MlflowClient

            store_uri, artifacts = tracking_uri(uri)
            mlflow.set_tracking_uri(store_uri)
            client = MlflowClient(tracking_uri=store_uri)
            found = client.get_experiment_by_name(experiment)
            experiment_id = found.experiment_id if found else client.create_experiment(experiment, artifact_location=artifacts)
            all_tags = dict(tags or {})
            if parent_run_id:
                all_tags["mlflow.parentRunId"] = parent_run_id
            run = client.create_run(experiment_id, run_name=run_name, tags=all_tags)
            return cls(client, run.info.run_id, experiment_id)
        except Exception as err:  # telemetry is never fatal
            log.warning("tracking disabled: could not open an MLflow run at %r: %s", uri, err)
            return cls()

    @property
    def enabled(self) -> bool:
        return self.client is not None

    def _safely(self, what: str, send) -> None:
        if not self.enabled:
            return
        try:
            send()
        except Exception as err:
            log.warning("tracking disabled after a failure to %s: %s", what, err)
            self.client = None

    def child(self, run_name: str, tags: dict | None = None) -> "Tracker":
        """A nested run under this one (a no-op tracker if this one is)."""
        if not self.enabled:
            return Tracker()
        try:
            all_tags = {"mlflow.parentRunId": self.run_id, **(tags or {})}
            run = self.client.create_run(self.experiment_id, run_name=run_name, tags=all_tags)
            return Tracker(self.client, run.info.run_id, self.experiment_id)
        except Exception as err:
            log.warning("tracking disabled: could not open a nested run %r: %s", run_name, err)
            return Tracker()

    def log_params(self, params: dict[str, object]) -> None:
        def send():
            from mlflow.entities import Param

            items = [Param(k, str(v)[:6000]) for k, v in params.items()]
            for start in range(0, len(items), 100):
                self.client.log_batch(self.run_id, params=items[start:start + 100])

        self._safely("log params", send)

    def log_metrics(self, metrics: dict[str, float], step: int = 0) -> None:
        def send():
            from mlflow.entities import Metric

            now = int(time.time() * 1000)
            items = [Metric(k, float(v), now, step) for k, v in metrics.items() if v is not None]
            self.client.log_batch(self.run_id, metrics=items)

        self._safely("log metrics", send)

    def set_tags(self, tags: dict[str, object]) -> None:
        def send():
            from mlflow.entities import RunTag

            self.client.log_batch(self.run_id, tags=[RunTag(k, str(v)) for k, v in tags.items()])

        self._safely("set tags", send)

    def log_artifact(self, path: str | Path, folder: str | None = None) -> None:
        self._safely("log an artifact", lambda: self.client.log_artifact(self.run_id, str(path), folder))

    def log_dict(self, data: dict, name: str) -> None:
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / name
            path.write_text(json.dumps(data, indent=2, default=str))
            self.log_artifact(path)

    def finish(self, status: str = "FINISHED") -> None:
        self._safely("end the run", lambda: self.client.set_terminated(self.run_id, status))
