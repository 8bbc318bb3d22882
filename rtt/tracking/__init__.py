"""MLflow tracking, the one module that imports mlflow.

One parent run per pipeline run, one nested run per stage (`mlflow.parentRunId` tag), params =
the resolved config, metrics per step, summaries and checkpoint locations as tags/artifacts.
Runs are addressed by id through `MlflowClient`, not through mlflow's thread-local "active run",
so nesting holds whichever thread or process a stage runs in.

A resumed pipeline reuses its parent run (found by its `rtt.run_id` and `rtt.stage` tags): the
runs its dead process left RUNNING are marked KILLED and the parent runs again, so a run that ends
well ends FINISHED whatever it went through.

Telemetry is never fatal: the first failure logs a warning and turns the tracker into a no-op;
the training run goes on. Several processes may share one local store: creating the SQLite file
and the experiment is serialized by a lock file beside it; SQLite serializes the rest.
"""

from __future__ import annotations

import fcntl
import json
import logging
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

log = logging.getLogger(__name__)


def tracking_uri(uri: str) -> tuple[str, str | None]:
    """(tracking URI, artifact location). A plain path is a local store: SQLite + artifacts folder."""
    if "://" in uri:
        return uri, None
    root = Path(uri).resolve()
    root.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{root / 'mlflow.db'}", (root / "artifacts").as_uri()


def tag_filter(tags: dict[str, object]) -> str:
    """An MLflow search filter matching runs that carry all of `tags`."""
    return " AND ".join(f"tags.`{k}` = '{v}'" for k, v in tags.items())


@contextmanager
def store_lock(store_uri: str) -> Iterator[None]:
    """Serialize, across processes, the creation of a local SQLite store's tables and experiments
    (two processes creating them at once collide); a no-op for other stores."""
    if not store_uri.startswith("sqlite:///"):
        yield
        return
    with open(store_uri[len("sqlite:///"):] + ".lock", "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        yield  # closing the file releases the lock


def connect(uri: str, experiment: str):
    """(MlflowClient, experiment id), creating the store and the experiment when missing."""
    import mlflow
    from mlflow.tracking import MlflowClient

    store_uri, artifacts = tracking_uri(uri)
    mlflow.set_tracking_uri(store_uri)
    with store_lock(store_uri):
        client = MlflowClient(tracking_uri=store_uri)
        found = client.get_experiment_by_name(experiment)
        return client, found.experiment_id if found else client.create_experiment(experiment, artifact_location=artifacts)


def run_statuses(uri: str, experiment: str, run_id: str) -> list[tuple[str, str]]:
    """(`rtt.stage` tag, status) of every MLflow run of rtt run `run_id`: what a run left behind."""
    client, experiment_id = connect(uri, experiment)
    runs = client.search_runs([experiment_id], tag_filter({"rtt.run_id": run_id}), max_results=1000)
    return [(r.data.tags.get("rtt.stage", ""), r.info.status) for r in runs]


class Tracker:
    """A handle on one MLflow run; every method swallows (and reports once) tracking failures."""

    def __init__(self, client=None, run_id: str | None = None, experiment_id: str | None = None, resumed: bool = False):
        self.client, self.run_id, self.experiment_id = client, run_id, experiment_id
        self.resumed = resumed  # an existing run set RUNNING again (`resume_or_open`)

    @classmethod
    def open(cls, uri: str, experiment: str, run_name: str, parent_run_id: str | None = None, tags: dict | None = None) -> "Tracker":
        try:
            client, experiment_id = connect(uri, experiment)
            all_tags = dict(tags or {})
            if parent_run_id:
                all_tags["mlflow.parentRunId"] = parent_run_id
            run = client.create_run(experiment_id, run_name=run_name, tags=all_tags)
            return cls(client, run.info.run_id, experiment_id)
        except Exception as err:  # telemetry is never fatal
            log.warning("tracking disabled: could not open an MLflow run at %r: %s", uri, err)
            return cls()

    @classmethod
    def resume_or_open(cls, uri: str, experiment: str, run_name: str, tags: dict[str, object]) -> "Tracker":
        """The earliest run carrying all of `tags`, set RUNNING again, or a new run with them.

        First every run that carries `tags["rtt.run_id"]` and is still RUNNING is marked KILLED:
        the caller holds that run's lock, so whoever left them RUNNING is dead."""
        try:
            client, experiment_id = connect(uri, experiment)
            stale = client.search_runs([experiment_id], f"{tag_filter({'rtt.run_id': tags['rtt.run_id']})} "
                                                        "AND attributes.status = 'RUNNING'")
            for run in stale:
                client.set_terminated(run.info.run_id, "KILLED")
            if stale:
                log.info("marked %d MLflow run(s) left RUNNING by an earlier process KILLED", len(stale))
            found = client.search_runs([experiment_id], tag_filter(tags), order_by=["attributes.start_time ASC"], max_results=1)
            if not found:
                run = client.create_run(experiment_id, run_name=run_name, tags={k: str(v) for k, v in tags.items()})
                return cls(client, run.info.run_id, experiment_id)
            client.update_run(found[0].info.run_id, status="RUNNING")
            log.info("resuming MLflow run %s", found[0].info.run_id)
            return cls(client, found[0].info.run_id, experiment_id, resumed=True)
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
