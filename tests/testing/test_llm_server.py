"""The local OpenAI-compatible test server: response shape, auth, each fault kind, determinism, counters."""

from __future__ import annotations

import json
import threading
import time
from collections import Counter

import httpx
import pytest

from rtt.testing.llm_server import (
    ALL_FAULTS,
    GARBAGE,
    MODEL_ID,
    REFUSAL,
    Faults,
    LocalServer,
    choose_fault,
    default_answer,
)


def chat_body(text: str = "Is the sky blue?", model: str = "judge-model") -> dict:
    return {
        "model": model,
        "messages": [{"role": "system", "content": "Answer YES or NO."}, {"role": "user", "content": text}],
        "temperature": 0.0,
        "max_tokens": 4,
        "response_format": {"type": "text"},
        "some_unknown_field": [1, 2, 3],
    }


def post(client: httpx.Client, server: LocalServer, body: dict, **kwargs) -> httpx.Response:
    return client.post(f"{server.base_url}/chat/completions", json=body, **kwargs)


def outcome(client: httpx.Client, server: LocalServer, body: dict) -> str:
    """A short description of what the client saw, to compare runs."""
    try:
        response = post(client, server, body)
    except httpx.TransportError as err:
        return type(err).__name__
    if response.status_code != 200:
        return str(response.status_code)
    try:
        return response.json()["choices"][0]["message"]["content"]
    except json.JSONDecodeError:
        return "malformed"


def test_completion_has_openai_shape():
    body = chat_body()
    with LocalServer() as server, httpx.Client() as client:
        assert server.base_url.startswith("http://127.0.0.1:") and server.base_url.endswith("/v1")
        first = post(client, server, body)
        second = post(client, server, body)
    assert first.status_code == 200
    assert first.headers["content-type"] == "application/json"
    assert int(first.headers["content-length"]) == len(first.content)
    data = first.json()
    assert data["object"] == "chat.completion"
    assert isinstance(data["id"], str) and isinstance(data["created"], int)
    assert data["model"] == "judge-model"
    [choice] = data["choices"]
    assert choice["index"] == 0 and choice["finish_reason"] == "stop"
    assert choice["message"]["role"] == "assistant"
    content = choice["message"]["content"]
    assert content == default_answer(body) and content in ("YES", "NO")
    assert second.json()["choices"][0]["message"]["content"] == content
    assert data["usage"] == {"prompt_tokens": 4 + 4, "completion_tokens": 1, "total_tokens": 9}


def test_default_answer_is_deterministic_and_varies():
    answers = {default_answer(chat_body(f"question {i}")) for i in range(20)}
    assert answers == {"YES", "NO"}
    assert default_answer(chat_body("q")) == default_answer(chat_body("q", model="other"))


def test_custom_answer_and_usage():
    def answer(body: dict) -> str:
        return "three little words"

    body = {"model": "m", "messages": [{"role": "user", "content": [{"type": "text", "text": "one two"}]}]}
    with LocalServer(answer=answer) as server, httpx.Client() as client:
        data = post(client, server, body).json()
    assert data["choices"][0]["message"]["content"] == "three little words"
    assert data["usage"] == {"prompt_tokens": 2, "completion_tokens": 3, "total_tokens": 5}


def test_models_endpoint():
    with LocalServer() as server, httpx.Client() as client:
        response = client.get(f"{server.base_url}/models")
    assert response.status_code == 200
    data = response.json()
    assert data["object"] == "list"
    assert [m["id"] for m in data["data"]] == [MODEL_ID]


def test_bad_requests():
    with LocalServer() as server, httpx.Client() as client:
        not_json = client.post(
            f"{server.base_url}/chat/completions", content=b"{not json", headers={"Content-Type": "application/json"}
        )
        no_messages = post(client, server, {"model": "m"})
        unknown = client.get(f"{server.base_url}/nope")
        ok = post(client, server, chat_body())
    assert not_json.status_code == 400 and not_json.json()["error"]["type"] == "invalid_request_error"
    assert no_messages.status_code == 400 and "messages" in no_messages.json()["error"]["message"]
    assert unknown.status_code == 404
    assert ok.status_code == 200
    assert server.requests == 3 and server.answered == 1


def test_api_key():
    with LocalServer(api_key="sk-test") as server, httpx.Client() as client:
        missing = post(client, server, chat_body())
        wrong = post(client, server, chat_body(), headers={"Authorization": "Bearer sk-wrong"})
        right = post(client, server, chat_body(), headers={"Authorization": "Bearer sk-test"})
        models_missing = client.get(f"{server.base_url}/models")
    for response in (missing, wrong, models_missing):
        assert response.status_code == 401
        assert response.json()["error"]["type"] == "invalid_request_error"
        assert response.json()["error"]["message"]
    assert right.status_code == 200
    assert server.answered == 1


def only(kind: str, **kwargs) -> Faults:
    return Faults(rate=1.0, kinds=(kind,), **kwargs)


def test_fault_rate_limit():
    with LocalServer(faults=only("rate_limit", retry_after_s=0.25)) as server, httpx.Client() as client:
        response = post(client, server, chat_body())
    assert response.status_code == 429
    assert response.headers["retry-after"] == "0.25"
    assert response.json()["error"]["message"]
    assert server.faults == Counter({"rate_limit": 1}) and server.answered == 0


def test_fault_server_error():
    with LocalServer(faults=only("server_error")) as server, httpx.Client() as client:
        response = post(client, server, chat_body())
    assert response.status_code == 500
    assert response.json()["error"]["type"] == "server_error"


def test_fault_drop():
    with LocalServer(faults=only("drop")) as server, httpx.Client(timeout=5.0) as client:
        with pytest.raises(httpx.TransportError) as err:
            post(client, server, chat_body())
    assert not isinstance(err.value, httpx.TimeoutException)
    assert server.faults == Counter({"drop": 1})


def test_fault_malformed_json():
    with LocalServer(faults=only("malformed_json")) as server, httpx.Client() as client:
        response = post(client, server, chat_body())
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    with pytest.raises(json.JSONDecodeError):
        response.json()


@pytest.mark.parametrize(("kind", "content"), [("refusal", REFUSAL), ("garbage", GARBAGE)])
def test_fault_refusal_and_garbage(kind, content):
    with LocalServer(faults=only(kind)) as server, httpx.Client() as client:
        response = post(client, server, chat_body())
    assert response.status_code == 200
    assert response.json()["choices"][0]["message"]["content"] == content
    assert content not in ("YES", "NO")
    assert server.answered == 1 and server.faults == Counter({kind: 1})


def test_fault_slow_times_out():
    with LocalServer(faults=only("slow", slow_s=1.0)) as server, httpx.Client(timeout=0.2) as client:
        with pytest.raises(httpx.TimeoutException):  # gave up before the answer (a 200) arrived
            post(client, server, chat_body())
    assert server.faults == Counter({"slow": 1})


def test_slow_fault_answers_a_patient_client():
    with LocalServer(faults=only("slow", slow_s=0.1)) as server, httpx.Client(timeout=5.0) as client:
        response = post(client, server, chat_body())
    assert response.status_code == 200
    assert response.json()["choices"][0]["message"]["content"] == default_answer(chat_body())


def test_retries_eventually_succeed():
    faults = Faults(rate=0.5, kinds=("rate_limit", "server_error", "drop", "malformed_json"), seed=7)
    body = chat_body()
    with LocalServer(faults=faults) as server, httpx.Client() as client:
        seen = []
        for _ in range(30):
            seen.append(outcome(client, server, body))
            if seen[-1] == default_answer(body):
                break
    assert seen[-1] == default_answer(body)
    assert server.requests == len(seen) and server.answered == 1
    assert sum(server.faults.values()) == len(seen) - 1


def test_same_seed_same_outcomes():
    faults = Faults(rate=0.5, kinds=tuple(k for k in ALL_FAULTS if k != "slow"), seed=3)
    bodies = [chat_body(f"question {i % 4}") for i in range(24)]
    runs = []
    for _ in range(2):
        with LocalServer(faults=faults) as server, httpx.Client() as client:
            runs.append([outcome(client, server, body) for body in bodies])
            assert server.bodies == bodies
    assert runs[0] == runs[1]
    assert len(set(runs[0])) > 2  # both faults and answers happened
    with LocalServer(faults=Faults(rate=0.5, kinds=faults.kinds, seed=4)) as server, httpx.Client() as client:
        assert [outcome(client, server, body) for body in bodies] != runs[0]


def test_choose_fault():
    assert choose_fault(Faults(rate=0.0), "{}", 0) is None
    assert all(choose_fault(Faults(rate=1.0, kinds=("drop",)), f"{i}", 0) == "drop" for i in range(10))
    faults = Faults(rate=0.3, seed=1)
    picks = [choose_fault(faults, "{}", attempt) for attempt in range(400)]
    assert picks == [choose_fault(faults, "{}", attempt) for attempt in range(400)]
    rate = sum(p is not None for p in picks) / len(picks)
    assert 0.2 < rate < 0.4
    assert set(picks) - {None} == set(ALL_FAULTS)


def send_concurrently(server: LocalServer, n: int) -> list[int]:
    barrier = threading.Barrier(n)
    statuses = [0] * n

    def worker(i: int) -> None:
        with httpx.Client(timeout=5.0) as client:
            barrier.wait()
            statuses[i] = post(client, server, chat_body(f"q{i}")).status_code

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(n)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return statuses


def wait_idle(server: LocalServer, timeout_s: float = 2.0) -> None:
    deadline = time.monotonic() + timeout_s
    while server.in_flight and time.monotonic() < deadline:
        time.sleep(0.005)
    assert server.in_flight == 0


def test_max_in_flight():
    with LocalServer(latency_s=0.2) as server:
        assert send_concurrently(server, 5) == [200] * 5
        assert server.max_in_flight == 5
        wait_idle(server)  # a handler leaves just after its response is written
        server.reset_counters()
        with httpx.Client() as client:
            for i in range(3):
                assert post(client, server, chat_body(f"q{i}")).status_code == 200
        assert server.max_in_flight == 1 and server.requests == 3


def test_counters_add_up():
    faults = Faults(rate=0.6, kinds=("rate_limit", "server_error", "refusal", "garbage"), seed=11)
    with LocalServer(faults=faults) as server, httpx.Client() as client:
        statuses = [post(client, server, chat_body(f"q{i}")).status_code for i in range(40)]
        assert server.requests == 40
        assert len(server.bodies) == 40
        failed = server.faults["rate_limit"] + server.faults["server_error"]
        assert statuses.count(200) == server.answered == 40 - failed
        assert statuses.count(429) == server.faults["rate_limit"]
        assert statuses.count(500) == server.faults["server_error"]
        assert 0 < sum(server.faults.values()) < 40
        deadline = time.monotonic() + 5
        while server.in_flight and time.monotonic() < deadline:  # the last handler leaves just after answering
            time.sleep(0.001)
        server.reset_counters()
        assert (server.requests, server.answered, server.faults, server.bodies, server.max_in_flight) == (
            0,
            0,
            Counter(),
            [],
            0,
        )


def test_faults_validation():
    with pytest.raises(ValueError, match="1.5"):
        Faults(rate=1.5)
    with pytest.raises(ValueError, match="-0.1"):
        Faults(rate=-0.1)
    with pytest.raises(ValueError, match="explode"):
        Faults(kinds=("drop", "explode"))
    with pytest.raises(ValueError):
        Faults(kinds=())
    with pytest.raises(ValueError):
        Faults(slow_s=-1.0)
    assert Faults(kinds=["drop"]).kinds == ("drop",)


def test_start_stop():
    server = LocalServer()
    server.start()
    try:
        with httpx.Client() as client:
            assert post(client, server, chat_body()).status_code == 200
        url = server.base_url
    finally:
        server.stop()
    server.stop()  # idempotent
    with pytest.raises(httpx.TransportError):
        httpx.post(f"{url}/chat/completions", json=chat_body(), timeout=1.0)


def test_answer_function_error_is_a_500():
    def answer(body: dict) -> str:
        raise RuntimeError("boom")

    with LocalServer(answer=answer) as server, httpx.Client() as client:
        response = post(client, server, chat_body())
    assert response.status_code == 500 and "boom" in response.json()["error"]["message"]
    assert server.answered == 0


def test_runs_as_its_own_process_with_stats():
    import subprocess
    import sys

    proc = subprocess.Popen(
        [sys.executable, "-m", "rtt.testing.llm_server", "--latency-s", "0.01"], stdout=subprocess.PIPE, text=True
    )
    try:
        url = proc.stdout.readline().strip()
        assert url.startswith("http://127.0.0.1:") and url.endswith("/v1")
        answer = httpx.post(
            f"{url}/chat/completions", json={"model": "m", "messages": [{"role": "user", "content": "hi"}]}
        )
        assert answer.json()["choices"][0]["message"]["content"] in ("YES", "NO")
        assert httpx.get(url.removesuffix("/v1") + "/stats").json() == {
            "requests": 1,
            "faults": {},
            "answered": 1,
            "max_in_flight": 1,
        }
    finally:
        proc.terminate()
        proc.wait(timeout=10)
