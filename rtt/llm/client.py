"""Async client (aiohttp) for any OpenAI-compatible `/v1/chat/completions` endpoint, built to survive real APIs.

- At most `max_concurrency` requests in flight, and at most `requests_per_minute` started per minute.
- Every attempt has a timeout. 429s, 5xx answers, timeouts, dropped connections and malformed
  bodies are retried up to `max_retries` times: after the server's `Retry-After` when it sends one,
  else after an exponential backoff with equal jitter (half the delay fixed, half random). Other
  4xx answers (a bad key, an unknown model) are not retried.
- Answers are cached by request content (`rtt.llm.cache`), so a re-run makes no calls for what it
  already asked.
- A request that still fails gives an `Answer` with `content=None` and the reason in `error`:
  callers turn it into an "unknown" verdict, never a guess, and one bad request never stops a batch.
- Token usage and latency come back with each answer.

The API key is read from the environment variable the config names, sent as a Bearer token, and
written nowhere: whatever a server sends back (an error body that echoes the key, as a 401 may) has
it replaced by `[redacted]` before it can reach an error text, a table or a log.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import email.utils
import json
import os
import random
import time
from dataclasses import dataclass

import aiohttp
from tqdm.auto import tqdm

from rtt.config import LLMConfig
from rtt.llm.cache import AnswerCache, request_key


@dataclass
class Answer:
    content: str | None
    """The assistant message, or None when the request failed for good."""
    error: str | None
    """Why there is no content (the last attempt's failure), or None."""
    key: str
    """The request's cache key."""
    cached: bool = False
    attempts: int = 0
    """HTTP attempts made (0 for a cached answer)."""
    latency_s: float = 0.0
    """Seconds of the successful attempt (0 for a cached answer)."""
    prompt_tokens: int = 0
    completion_tokens: int = 0


class Retryable(Exception):
    """A failed attempt worth repeating; `retry_after` is the server's requested wait, if any."""

    def __init__(self, reason: str, retry_after: float | None = None):
        super().__init__(reason)
        self.retry_after = retry_after


class Fatal(Exception):
    """A failed attempt that repeating will not fix (400, 401, 404, a refusal)."""


def retry_after_seconds(value: str | None) -> float | None:
    """The Retry-After header as seconds: a number, or an HTTP date; None when absent or unreadable."""
    if not value:
        return None
    try:
        return max(float(value), 0.0)
    except ValueError:
        pass
    try:
        return max(email.utils.parsedate_to_datetime(value).timestamp() - time.time(), 0.0)
    except (TypeError, ValueError):
        return None


def parse_completion(text: str) -> tuple[str, int, int]:
    """(content, prompt tokens, completion tokens) of a 200 answer's body, or Retryable/Fatal."""
    try:
        body = json.loads(text)
        message = body["choices"][0]["message"]
    except (ValueError, KeyError, IndexError, TypeError) as err:
        raise Retryable(f"malformed body: {type(err).__name__}: {text[:200]!r}") from None
    content = message.get("content")
    if content is None:
        raise Fatal(f"no content (refusal: {message.get('refusal')!r})")
    usage = body.get("usage") or {}
    return content, int(usage.get("prompt_tokens") or 0), int(usage.get("completion_tokens") or 0)


def raise_for_status(status: int, retry_after: str | None, text: str) -> None:
    if status == 200:
        return
    reason = f"HTTP {status}: {text[:200]}"
    if status == 429 or status >= 500:
        raise Retryable(reason, retry_after_seconds(retry_after))
    raise Fatal(reason)


class RateLimiter:
    """Spaces request starts at least 60 / per_minute seconds apart (0: no limit)."""

    def __init__(self, per_minute: float):
        self.interval = 60.0 / per_minute if per_minute > 0 else 0.0
        self.next_start = 0.0
        self.lock = asyncio.Lock()

    async def wait(self) -> None:
        if not self.interval:
            return
        async with self.lock:
            now = time.monotonic()
            start = max(now, self.next_start)
            self.next_start = start + self.interval
        await asyncio.sleep(start - now)


class ChatClient:
    """Chat completions against one endpoint; `complete_all` answers a list of requests."""

    def __init__(self, cfg: LLMConfig, cache: AnswerCache | None = None, seed: int = 0):
        if not cfg.model:
            raise ValueError(f"no model set for the endpoint {cfg.base_url}: set <section>.llm.model")
        self.cfg, self.cache = cfg, cache
        self.rng = random.Random(seed)
        self.headers = {"Content-Type": "application/json"}
        self.key = ""
        if cfg.api_key_env:
            key = os.environ.get(cfg.api_key_env)
            if not key:
                raise ValueError(f"the environment variable {cfg.api_key_env} (llm.api_key_env) is not set")
            self.key = key
            self.headers["Authorization"] = f"Bearer {key}"

    def __repr__(self) -> str:
        cfg = self.cfg
        return f"ChatClient(base_url={cfg.base_url!r}, model={cfg.model!r}, api_key_env={cfg.api_key_env!r})"

    def redact(self, text: str) -> str:
        """`text` without the API key (what a server or a library echoed back)."""
        return text.replace(self.key, "[redacted]") if self.key else text

    def request(self, messages: list[dict], **extra) -> dict:
        """A chat completions body with the configured model and sampling settings."""
        return {
            "model": self.cfg.model,
            "messages": messages,
            "temperature": self.cfg.temperature,
            "max_tokens": self.cfg.max_tokens,
            **extra,
        }

    def backoff(self, attempt: int, retry_after: float | None) -> float:
        if retry_after is not None:
            return min(retry_after, self.cfg.max_backoff_s)
        delay = min(self.cfg.backoff_s * 2 ** (attempt - 1), self.cfg.max_backoff_s)
        return delay / 2 + self.rng.uniform(0, delay / 2)

    async def attempt(self, http: aiohttp.ClientSession, body: dict) -> tuple[str, int, int]:
        try:
            async with http.post(
                f"{self.cfg.base_url.rstrip('/')}/chat/completions", json=body, headers=self.headers
            ) as response:
                status, retry_after = response.status, response.headers.get("Retry-After")
                text = self.redact(await response.text(errors="replace"))  # before any truncation cuts the key
        except asyncio.TimeoutError:
            raise Retryable(f"timeout after {self.cfg.timeout_s} s") from None
        except aiohttp.ClientError as err:
            raise Retryable(self.redact(f"connection: {type(err).__name__}: {err}")) from None
        raise_for_status(status, retry_after, text)
        return parse_completion(text)

    async def complete(
        self, http: aiohttp.ClientSession, body: dict, slots: asyncio.Semaphore, limiter: RateLimiter
    ) -> Answer:
        key = request_key(body)
        if self.cache is not None and (hit := self.cache.get(key)) is not None:
            return Answer(hit[0], None, key, cached=True, prompt_tokens=hit[1], completion_tokens=hit[2])
        async with slots:  # held across retries and their waits: see `complete_all_async`
            error = ""
            for attempt in range(1, self.cfg.max_retries + 2):
                await limiter.wait()
                start = time.perf_counter()
                try:
                    content, prompt_tokens, completion_tokens = await self.attempt(http, body)
                except Fatal as err:
                    return Answer(None, str(err), key, attempts=attempt)
                except Retryable as err:
                    error = str(err)
                    if attempt <= self.cfg.max_retries:
                        await asyncio.sleep(self.backoff(attempt, err.retry_after))
                    continue
                if self.cache is not None:
                    self.cache.put(key, self.cfg.model, content, prompt_tokens, completion_tokens)
                return Answer(
                    content,
                    None,
                    key,
                    attempts=attempt,
                    latency_s=time.perf_counter() - start,
                    prompt_tokens=prompt_tokens,
                    completion_tokens=completion_tokens,
                )
        return Answer(
            None, f"gave up after {self.cfg.max_retries + 1} attempts: {error}", key, attempts=self.cfg.max_retries + 1
        )

    async def complete_all_async(self, bodies: list[dict], desc: str = "llm") -> list[Answer]:
        """A request holds one of `max_concurrency` slots from its first attempt to its answer,
        backoff waits included: a retry never races a fresh request for the slot its timed-out
        attempt left, so the server never sees more than the limit (and a server answering 429s
        sees fewer requests, not more)."""
        slots = asyncio.Semaphore(self.cfg.max_concurrency)
        limiter = RateLimiter(self.cfg.requests_per_minute)
        connector = aiohttp.TCPConnector(limit=self.cfg.max_concurrency)
        async with aiohttp.ClientSession(
            connector=connector, timeout=aiohttp.ClientTimeout(total=self.cfg.timeout_s)
        ) as http:
            tasks = [asyncio.ensure_future(self.complete(http, body, slots, limiter)) for body in bodies]
            with tqdm(total=len(tasks), desc=desc, unit="call", leave=False) as bar:
                for done in asyncio.as_completed(tasks):
                    await done
                    bar.update(1)
            return [task.result() for task in tasks]

    def complete_all(self, bodies: list[dict], desc: str = "llm") -> list[Answer]:
        """Answers in the order of `bodies` (blocking; works inside a running event loop too)."""
        return run_sync(self.complete_all_async(bodies, desc))


def run_sync(coroutine):
    """Run a coroutine to completion from synchronous code, also where an event loop is already
    running in this thread (then in a worker thread with its own loop)."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(coroutine)
    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, coroutine).result()
