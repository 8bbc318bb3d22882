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

Model registry: each round's policy and discriminator are versions of the registered models
`<run_id>-policy` and `<run_id>-discriminator`, registered by reference: a version's source is the
checkpoint folder itself (a `file://` URI), nothing is copied. A local store (SQLite) takes any
source as is; an MLflow server refuses a local path outside the run's artifact folder, so there the
source is a pointer logged to the stage's run, `runs:/<stage run>/checkpoint` (a `checkpoint.json`
naming the folder and its host).
Alias `best` is the version with the highest metric (ties: the newer version). MLflow reserves the
alias name `latest`: `models:/NAME/latest` is built in and resolves to the highest version number,
the newest. A rerun of a stage updates its round's version (tags) instead of adding one.
"""

from __future__ import annotations

import fcntl
import json
import logging
import socket
import tempfile
import time
import urllib.parse
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

log = logging.getLogger(__name__)


def local_store(folder: str | Path) -> str:
    """The tracking URI of a local store: the SQLite file in its folder (relative stays relative)."""
    return f"sqlite:///{Path(folder) / 'mlflow.db'}"


def tracking_uri(uri: str) -> tuple[str, str | None]:
    """(tracking URI, artifact location). A plain path is a local store: SQLite + artifacts folder."""
    if "://" in uri:
        return uri, None
    root = Path(uri).resolve()
    root.mkdir(parents=True, exist_ok=True)
    return local_store(root), (root / "artifacts").as_uri()


def run_url(uri: str, ui: str, experiment_id: str | None, run_id: str | None) -> str | None:
    """The MLflow UI page of a run: on the tracking server itself, or on `ui` for a local store."""
    if not (experiment_id and run_id):
        return None
    base = uri if uri.startswith(("http://", "https://")) else ui
    return f"{base.rstrip('/')}/#/experiments/{experiment_id}/runs/{run_id}"


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
    with open(store_uri[len("sqlite:///") :] + ".lock", "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        yield  # closing the file releases the lock


def connect(uri: str, experiment: str | None, artifacts: str | None = None):
    """(MlflowClient, experiment id), creating the store and the experiment when missing
    (no experiment: the client alone, and None). A new experiment keeps its artifacts under
    `artifacts` (an `s3://...` URL: beside a lake on the object store) or, by default, the local
    store's folder or the server's default."""
    import mlflow
    from mlflow.tracking import MlflowClient

    store_uri, local_artifacts = tracking_uri(uri)
    artifacts = artifacts or local_artifacts
    mlflow.set_tracking_uri(store_uri)
    with store_lock(store_uri):
        client = MlflowClient(tracking_uri=store_uri)
        if experiment is None:
            return client, None
        found = client.get_experiment_by_name(experiment)
        return client, found.experiment_id if found else client.create_experiment(
            experiment, artifact_location=artifacts
        )


def registered_model_name(run_id: str, kind: str) -> str:
    """The registered model holding run `run_id`'s checkpoints of `kind` (policy | discriminator)."""
    return f"{run_id}-{kind}"


def registered_model_path(name: str) -> str:
    """The path of a registered model's page in the MLflow UI, to append to the UI's address
    (e.g. `http://127.0.0.1:5000/` + `#/models/NAME`)."""
    return f"#/models/{urllib.parse.quote(name, safe='')}"


def model_versions(uri: str, name: str) -> list[dict]:
    """The versions of registered model `name`, oldest first: version, round, metric, value, n,
    aliases (`best`, and `latest` on the newest version: MLflow's built-in `models:/NAME/latest`),
    checkpoint (the folder), source, run_id (rtt's), campaign, mlflow_run_id (the stage run that
    last registered it), tags (all of them). [] when no such model; other errors propagate."""
    from mlflow.exceptions import MlflowException

    client, _ = connect(uri, None)
    try:
        aliases = client.get_registered_model(name).aliases  # alias -> version
    except MlflowException as err:
        if err.error_code == "RESOURCE_DOES_NOT_EXIST":
            return []
        raise
    versions = sorted(_versions(client, name), key=lambda v: int(v.version))
    if versions:
        aliases = {**aliases, "latest": versions[-1].version}
    out = []
    for v in versions:
        tags = dict(v.tags)
        out.append(
            {
                "version": int(v.version),
                "round": int(tags.get("rtt.round", -1)),
                "metric": tags.get("rtt.metric"),
                "value": _number(tags.get("rtt.value"), float),
                "n": _number(tags.get("rtt.n"), int),
                "aliases": sorted(a for a, version in aliases.items() if int(version) == int(v.version)),
                "checkpoint": tags.get("rtt.checkpoint"),
                "source": v.source,
                "run_id": tags.get("rtt.run_id"),
                "campaign": tags.get("rtt.campaign"),
                "mlflow_run_id": tags.get("rtt.stage_run", v.run_id),
                "tags": tags,
            }
        )
    return out


def _number(text: str | None, kind):
    return None if text in (None, "", "None") else kind(text)


def _versions(client, name: str, tags: dict[str, object] | None = None) -> list:
    """Every version of registered model `name` carrying all of `tags`."""
    where = " AND ".join([f"name = '{name}'"] + [f"tags.`{k}` = '{v}'" for k, v in (tags or {}).items()])
    return list(client.search_model_versions(where, max_results=10_000))


def _move_best(client, name: str) -> None:
    """Alias `best` to the version with the highest metric (ties: the newer version)."""
    scored = [(_number(v.tags.get("rtt.value"), float), int(v.version)) for v in _versions(client, name)]
    scored = [(value, version) for value, version in scored if value is not None and value == value]  # not NaN
    if scored:
        client.set_registered_model_alias(name, "best", str(max(scored)[1]))


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
    def open(
        cls,
        uri: str,
        experiment: str,
        run_name: str,
        parent_run_id: str | None = None,
        tags: dict | None = None,
        artifacts: str | None = None,
    ) -> Tracker:
        try:
            client, experiment_id = connect(uri, experiment, artifacts)
            all_tags = dict(tags or {})
            if parent_run_id:
                all_tags["mlflow.parentRunId"] = parent_run_id
            run = client.create_run(experiment_id, run_name=run_name, tags=all_tags)
            return cls(client, run.info.run_id, experiment_id)
        except Exception as err:  # telemetry is never fatal
            log.warning("tracking disabled: could not open an MLflow run at %r: %s", uri, err)
            return cls()

    @classmethod
    def resume_or_open(
        cls, uri: str, experiment: str, run_name: str, tags: dict[str, object], artifacts: str | None = None
    ) -> Tracker:
        """The earliest run carrying all of `tags`, set RUNNING again, or a new run with them.

        First every run that carries `tags["rtt.run_id"]` and is still RUNNING is marked KILLED:
        the caller holds that run's lock, so whoever left them RUNNING is dead."""
        try:
            client, experiment_id = connect(uri, experiment, artifacts)
            stale = client.search_runs(
                [experiment_id], f"{tag_filter({'rtt.run_id': tags['rtt.run_id']})} AND attributes.status = 'RUNNING'"
            )
            for run in stale:
                client.set_terminated(run.info.run_id, "KILLED")
            if stale:
                log.info("marked %d MLflow run(s) left RUNNING by an earlier process KILLED", len(stale))
            found = client.search_runs(
                [experiment_id], tag_filter(tags), order_by=["attributes.start_time ASC"], max_results=1
            )
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

    def child(self, run_name: str, tags: dict | None = None) -> Tracker:
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
                self.client.log_batch(self.run_id, params=items[start : start + 100])

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

    def register_model(
        self,
        name: str,
        checkpoint: str | Path,
        run_id: str,
        round_: int,
        metric: str,
        value: float | None,
        n: int | None = None,
        campaign: str | None = None,
    ) -> int | None:
        """Register checkpoint folder `checkpoint` (by reference) as a version of model `name`, made
        by this tracker's run, and move alias `best` to the highest `value` of `metric` (the newest
        version is `models:/NAME/latest` by itself). The same (model, `run_id`, `round_`) again
        updates that version's tags instead of adding one. Returns the version; None when tracking
        is off or the registry failed (warned)."""
        if not self.enabled:
            return None
        try:
            return self._register(name, Path(checkpoint).resolve(), run_id, round_, metric, value, n, campaign)
        except Exception as err:  # telemetry is never fatal; the run's other tracking goes on
            log.warning("could not register %s round %d in the MLflow model registry: %s", name, round_, err)
            return None

    def _register(
        self,
        name: str,
        checkpoint: Path,
        run_id: str,
        round_: int,
        metric: str,
        value: float | None,
        n: int | None,
        campaign: str | None,
    ) -> int:
        from mlflow.exceptions import MlflowException

        key = {"rtt.run_id": run_id, "rtt.round": round_}
        tags = {
            **key,
            **({"rtt.campaign": campaign} if campaign else {}),
            "rtt.checkpoint": checkpoint,
            "rtt.stage_run": self.run_id,
            "rtt.metric": metric,
            "rtt.value": value,
            "rtt.n": n,
        }
        tags = {k: str(v) for k, v in tags.items() if v is not None}
        found = _versions(self.client, name, key)
        if found:
            existing = min(found, key=lambda v: int(v.version))
            version = int(existing.version)
            for k in {k for k in existing.tags if k.startswith("rtt.")} - set(tags):  # e.g. a value the rerun lacks
                self.client.delete_model_version_tag(name, str(version), k)
            for k, v in tags.items():
                self.client.set_model_version_tag(name, str(version), k, v)
        else:
            try:
                self.client.create_registered_model(
                    name, tags={k: tags[k] for k in ("rtt.run_id", "rtt.campaign") if k in tags}
                )
            except MlflowException as err:
                if err.error_code != "RESOURCE_ALREADY_EXISTS":
                    raise
            version = int(
                self.client.create_model_version(
                    name, self._source(checkpoint), self.run_id, tags=tags, await_creation_for=0
                ).version
            )
        _move_best(self.client, name)
        return version

    def _source(self, checkpoint: Path) -> str:
        """The folder itself, or on an MLflow server (which refuses local paths) a pointer logged to this run."""
        if urllib.parse.urlparse(self.client.tracking_uri).scheme not in ("http", "https"):
            return checkpoint.as_uri()
        self.client.log_dict(
            self.run_id, {"path": str(checkpoint), "host": socket.gethostname()}, "checkpoint/checkpoint.json"
        )
        return f"runs:/{self.run_id}/checkpoint"

    def finish(self, status: str = "FINISHED") -> None:
        self._safely("end the run", lambda: self.client.set_terminated(self.run_id, status))
