"""The chat client against a real HTTP server on loopback that injects faults."""

import asyncio
import email.utils
import time

import pytest

from rtt.config import LLMConfig
from rtt.llm.cache import AnswerCache
from rtt.llm.client import ChatClient, retry_after_seconds, run_sync
from rtt.testing.llm_server import Faults, LocalServer, default_answer

FAST = {"backoff_s": 0.01, "max_backoff_s": 0.05, "timeout_s": 5.0}


def client_for(server: LocalServer, cache=None, **settings) -> ChatClient:
    return ChatClient(LLMConfig(base_url=server.base_url, model="m", **{**FAST, **settings}), cache)


def bodies(client: ChatClient, n: int) -> list[dict]:
    return [client.request([{"role": "user", "content": f"question {i}"}]) for i in range(n)]


def test_answers_in_order_with_usage_and_a_cache_that_saves_every_call(tmp_path):
    with LocalServer() as server:
        client = client_for(server, AnswerCache(tmp_path / "llm.sqlite"))
        first = client.complete_all(bodies(client, 6))
        assert [a.content for a in first] == [default_answer(b) for b in bodies(client, 6)]
        assert all(a.content in ("YES", "NO") and a.error is None and a.attempts == 1 and not a.cached for a in first)
        assert all(a.prompt_tokens == 2 and a.completion_tokens == 1 and a.latency_s > 0 for a in first)
        assert server.requests == 6
        again = client.complete_all(bodies(client, 6))
        assert server.requests == 6  # no new request
        assert [a.content for a in again] == [a.content for a in first] and all(
            a.cached and a.attempts == 0 for a in again
        )


def test_retries_survive_every_fault_kind_at_30_percent():
    faults = Faults(rate=0.3, seed=1, slow_s=0.5, retry_after_s=0.01)
    with LocalServer(faults=faults) as server:
        client = client_for(server, max_retries=8, timeout_s=0.25)
        answers = client.complete_all(bodies(client, 100))
        assert set(server.faults) == {
            "slow",
            "rate_limit",
            "server_error",
            "drop",
            "malformed_json",
            "refusal",
            "garbage",
        }
        transient = sum(server.faults[k] for k in ("slow", "rate_limit", "server_error", "drop", "malformed_json"))
        assert sum(a.attempts - 1 for a in answers) == transient  # each transient fault cost exactly one retry
        assert all(a.content is not None for a in answers)  # refusals and garbage arrive as content
        assert sum(a.content.startswith("I'm sorry") for a in answers) == server.faults["refusal"]


def test_gives_up_after_max_retries_honouring_retry_after():
    with LocalServer(faults=Faults(rate=1.0, kinds=("rate_limit",), retry_after_s=0.1)) as server:
        client = client_for(server, max_retries=3, max_backoff_s=1.0)
        start = time.perf_counter()
        [answer] = client.complete_all(bodies(client, 1))
        assert time.perf_counter() - start >= 3 * 0.1  # three waits of the server's Retry-After
        assert answer.content is None and answer.attempts == 4 and "HTTP 429" in answer.error
        assert server.requests == 4


def test_a_bad_key_is_not_retried(monkeypatch):
    monkeypatch.setenv("RTT_TEST_KEY", "wrong")
    with LocalServer(api_key="right") as server:
        client = client_for(server, api_key_env="RTT_TEST_KEY")
        [answer] = client.complete_all(bodies(client, 1))
        assert answer.content is None and answer.attempts == 1 and "HTTP 401" in answer.error
        monkeypatch.setenv("RTT_TEST_KEY", "right")
        [answer] = client_for(server, api_key_env="RTT_TEST_KEY").complete_all(bodies(client, 1))
        assert answer.content in ("YES", "NO")


def test_the_key_comes_from_the_environment_and_is_never_cached(monkeypatch, tmp_path):
    monkeypatch.delenv("RTT_MISSING_KEY", raising=False)
    with pytest.raises(ValueError, match="RTT_MISSING_KEY"):
        ChatClient(LLMConfig(model="m", api_key_env="RTT_MISSING_KEY"))
    with pytest.raises(ValueError, match="model"):
        ChatClient(LLMConfig())
    monkeypatch.setenv("RTT_TEST_KEY", "sk-secret-value")
    with LocalServer(api_key="sk-secret-value") as server:
        cache = AnswerCache(tmp_path / "llm.sqlite")
        client = client_for(server, cache, api_key_env="RTT_TEST_KEY")
        assert all(a.content for a in client.complete_all(bodies(client, 3)))
        cache.close()
    assert b"sk-secret-value" not in (tmp_path / "llm.sqlite").read_bytes()


def test_concurrency_never_exceeds_the_limit():
    with LocalServer(latency_s=0.05) as server:
        client = client_for(server, max_concurrency=4)
        client.complete_all(bodies(client, 40))
        assert server.max_in_flight == 4


def test_requests_per_minute_spaces_the_starts():
    with LocalServer() as server:
        client = client_for(server, requests_per_minute=600)  # one start every 0.1 s
        start = time.perf_counter()
        client.complete_all(bodies(client, 5))
        assert time.perf_counter() - start >= 0.4


def test_backoff_is_exponential_with_equal_jitter_and_capped():
    client = ChatClient(LLMConfig(model="m", backoff_s=1.0, max_backoff_s=5.0))
    for attempt, (low, high) in {1: (0.5, 1.0), 2: (1.0, 2.0), 3: (2.0, 4.0), 4: (2.5, 5.0), 9: (2.5, 5.0)}.items():
        delays = [client.backoff(attempt, None) for _ in range(50)]
        assert all(low <= d <= high for d in delays) and len(set(delays)) > 1
    assert client.backoff(1, 2.5) == 2.5 and client.backoff(1, 60.0) == 5.0  # Retry-After, capped


def test_retry_after_header_forms():
    assert retry_after_seconds("2") == 2.0 and retry_after_seconds("0.5") == 0.5 and retry_after_seconds("-1") == 0.0
    soon = email.utils.formatdate(time.time() + 30, usegmt=True)
    assert 25 < retry_after_seconds(soon) <= 30
    assert retry_after_seconds(None) is None and retry_after_seconds("soon") is None


def test_complete_all_works_inside_a_running_event_loop():
    with LocalServer() as server:
        client = client_for(server)

        async def inside():
            return client.complete_all(bodies(client, 2))

        assert len(asyncio.run(inside())) == 2
    assert run_sync(asyncio.sleep(0, result=7)) == 7
