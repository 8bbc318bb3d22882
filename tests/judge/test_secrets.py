"""The judge's API key is used, and written nowhere: not in a table, the MLflow store, the answer
cache, a resolved config, a log line, a warning or an error text, in any encoding.

The key lives in the environment under the name `judge.llm.api_key_env` points to. The local
server demands it, counts the requests that carried it, fails some of them (500, 429, dropped
connections, truncated bodies; the judge gives up on some) and answers a stale key with a 401 whose
message echoes the key it got, in full: the eval stage's second judge holds that stale key, so its
every call fails with the echoed key in the body the client reads. The policy is the untied tiny
model, whose greedy eval answers are text (a blank answer is failed without an LLM call).
"""

import base64
import logging
import secrets
from pathlib import Path

import pyarrow.parquet as pq

from rtt.config import load_config
from rtt.data.catalog import query
from rtt.data.store import Store
from rtt.llm.client import ChatClient
from rtt.runs import run_stage
from rtt.testing.llm_server import Faults, LocalServer

RUN = "secret-1"
KEY_ENV = "RTT_TEST_JUDGE_KEY"
STALE_ENV = "RTT_TEST_STALE_JUDGE_KEY"
LOGGERS = (
    "rtt",
    "aiohttp",
    "aiohttp.client",
    "aiohttp.internal",
    "urllib3",
    "asyncio",
    "mlflow",
    "alembic",
    "sqlalchemy",
)


def encodings(key: str) -> list[bytes]:
    """The key as it could appear in a file: raw, its random hex part, its bytes as hex, UTF-16,
    and base64 (alone or inside a longer encoded string: the three alignments)."""
    raw = key.encode()
    aligned = [base64.b64encode(raw[i : i + (len(raw) - i) // 3 * 3]) for i in range(3)]
    return [
        raw,
        key.split("-")[-1].encode(),
        raw.hex().encode(),
        key.encode("utf-16-le"),
        *aligned,
        base64.b64encode(f"Bearer {key}".encode()),
    ]


def file_texts(root: Path) -> tuple[dict[Path, bytes], int]:
    """Every file under `root` as bytes, a Parquet file's decoded values too (compressed pages hide
    their strings from a byte search); and the total bytes on disk."""
    texts, size = {}, 0
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        data = path.read_bytes()
        size += len(data)
        if path.suffix == ".parquet":
            data += repr(pq.read_table(path).to_pylist()).encode()
        texts[path] = data
    return texts, size


def test_the_api_key_is_sent_and_written_nowhere(tmp_path, untied_model_dir, monkeypatch, caplog, capfd, recwarn):
    key, stale = (f"sk-test-{secrets.token_hex(16)}" for _ in range(2))
    monkeypatch.setenv(KEY_ENV, key)
    monkeypatch.setenv(STALE_ENV, stale)
    caplog.set_level(logging.DEBUG)
    for name in LOGGERS:
        caplog.set_level(logging.DEBUG, logger=name)

    faults = Faults(
        rate=0.5, kinds=("server_error", "rate_limit", "drop", "malformed_json"), seed=0, retry_after_s=0.01
    )
    with LocalServer(faults=faults, api_key=key) as server:
        args = [
            f"data_dir={tmp_path / 'data'}",
            f"tracking_uri={tmp_path / 'mlflow'}",
            f"model.policy={untied_model_dir}",
            "judge.mode=llm",
            f"judge.llm.base_url={server.base_url}",
            "judge.llm.model=local-judge",
            f"judge.llm.api_key_env={KEY_ENV}",
            "judge.llm.max_retries=1",
            "judge.llm.backoff_s=0.01",
            "judge.llm.max_concurrency=4",
            "eval.second_judge=true",
            f"eval.second_judge_llm.base_url={server.base_url}",
            "eval.second_judge_llm.model=second-judge",
            f"eval.second_judge_llm.api_key_env={STALE_ENV}",
        ]
        run_stage("rubrics", "smoke", args, RUN)
        run_stage("rollouts", "smoke", args, RUN, 0)
        judged = run_stage("judge", "smoke", args, RUN, 0)
        evaluated = run_stage("eval", "smoke", args, RUN, -1)
        cfg = load_config("smoke", args)
        client = ChatClient(cfg.judge.llm)

    # the key was sent: every attempt of the judge carried it, every one of the second judge got a 401
    store = Store(tmp_path / "data")
    attempts = {
        r["model"]: r["n"]
        for r in query(store, "SELECT model, sum(attempts) AS n FROM llm_calls GROUP BY 1").to_pylist()
    }
    assert server.authorized == attempts["local-judge"] > 0 and server.unauthorized == attempts["second-judge"] > 0
    assert server.authorized + server.unauthorized == server.requests
    assert judged["llm_failed"] > 0 and judged["llm_retries"] > 0 and judged["llm_requests"] > judged["llm_failed"]

    errors = [r["error"] for r in query(store, "SELECT error FROM llm_calls WHERE error IS NOT NULL").to_pylist()]
    reasons = [
        r["reason"] for r in query(store, "SELECT reason FROM verdicts WHERE reason LIKE 'request failed%'").to_pylist()
    ]
    assert any("HTTP 500" in e for e in errors) and any("HTTP 500" in r for r in reasons)
    assert any("HTTP 401" in e and "Incorrect API key provided: [redacted]" in e for e in errors)  # the echo, redacted

    # ... and written nowhere
    texts, size = file_texts(tmp_path)
    assert any(p.name == "llm.sqlite" for p in texts) and any(p.name == "mlflow.db" for p in texts)
    assert any(p.name == "config.json" for p in texts) and any("artifacts" in p.parts for p in texts)
    assert any(p.suffix == ".parquet" for p in texts) and size > 0
    out, err = capfd.readouterr()
    logs = "\n".join([caplog.text, *(r.getMessage() for r in caplog.records)])
    captured = {
        "stdout": out,
        "stderr": err,
        "logs": logs,
        "warnings": "\n".join(str(w.message) for w in recwarn),
        "errors": "\n".join(errors + reasons),
        "summaries": repr([judged, evaluated]),
        "repr": "\n".join([repr(client), str(client), repr(cfg), repr(cfg.judge.llm), repr(cfg.eval)]),
    }
    for secret in (key, stale):
        needles = encodings(secret)
        leaks = [str(path.relative_to(tmp_path)) for path, data in texts.items() if any(n in data for n in needles)]
        leaks += [name for name, text in captured.items() if any(n in text.encode() for n in needles)]
        assert not leaks, f"the API key leaked into {leaks}"
