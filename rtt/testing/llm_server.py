"""A local OpenAI-compatible HTTP server with fault injection, a stand-in for an LLM endpoint.

Tests and benchmarks point an OpenAI-style client at `LocalServer(...).base_url` instead of a
vLLM server or a hosted API. It serves real HTTP/1.1 on 127.0.0.1 (standard library only):
`POST /v1/chat/completions` answers with `answer(request_body)` (by default a deterministic YES/NO,
`default_answer`) in the OpenAI response shape, and `GET /v1/models` lists one model.

Faults: each chat completion request gets a fault with probability `Faults.rate`, one of
`Faults.kinds` (see `ALL_FAULTS`). The choice is deterministic: a hash of (seed, canonical request
JSON, attempt number), where the attempt number counts how often this exact body was seen before,
seeds a `random.Random`. The same request may fail on its first attempt and succeed on a retry, and
two servers with the same seed give the same outcomes for the same sequence of requests.

- "slow": sleep `slow_s` (meant to exceed the client's timeout), then answer normally, unless the
  client hung up meanwhile;
- "rate_limit": 429 with `Retry-After: <retry_after_s>` and an OpenAI error body;
- "server_error": 500 with an OpenAI error body;
- "drop": close the connection without writing a response;
- "malformed_json": 200, application/json, a truncated completion that is not valid JSON;
- "refusal": 200, a valid completion whose content is `REFUSAL`;
- "garbage": 200, a valid completion whose content is `GARBAGE` (neither YES/NO nor JSON).

Counters (`requests`, `faults`, `answered`, `in_flight`, `max_in_flight`, `bodies`, `authorized`,
`unauthorized`) are kept under a lock; `answered` counts valid 200 completions written (normal,
slow, refusal and garbage alike).

Every chat completion request, faulty or not, first sleeps `latency_s`. A request whose client
hangs up while it sleeps (a client timeout) ends there, unanswered: `in_flight` counts the requests
a client is still waiting for, which is what a client's concurrency limit bounds.

With `api_key` set, every request must carry `Authorization: Bearer <api_key>`: `authorized` counts
those that did (so a test can prove a client sent its key without the server keeping headers),
`unauthorized` those answered 401. The 401 message names the credential received, as OpenAI's does;
in full here, where OpenAI masks its middle: the worst case, which a client must not store.
"""

from __future__ import annotations

import hashlib
import json
import random
import select
import socket
import sys
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

ALL_FAULTS: tuple[str, ...] = ("slow", "rate_limit", "server_error", "drop", "malformed_json", "refusal", "garbage")
MODEL_ID = "local-test-model"
REFUSAL = "I'm sorry, but I can't help with that."
GARBAGE = "The answer depends on many factors."
CHAT_PATH = "/v1/chat/completions"
MODELS_PATH = "/v1/models"
STATS_PATH = "/stats"

Answer = Callable[[dict], str]


@dataclass
class Faults:
    """Which faults to inject: a fraction `rate` of requests gets one of `kinds`."""

    rate: float = 0.0
    kinds: tuple[str, ...] = ALL_FAULTS
    seed: int = 0
    slow_s: float = 2.0
    retry_after_s: float = 0.1

    def __post_init__(self) -> None:
        self.kinds = tuple(self.kinds)
        if not 0.0 <= self.rate <= 1.0:
            raise ValueError(f"Faults.rate must be in [0, 1], got {self.rate!r}")
        if not self.kinds:
            raise ValueError(f"Faults.kinds must name at least one of {ALL_FAULTS}, got {self.kinds!r}")
        for kind in self.kinds:
            if kind not in ALL_FAULTS:
                raise ValueError(f"unknown fault kind {kind!r}; known kinds: {ALL_FAULTS}")
        if self.slow_s < 0:
            raise ValueError(f"Faults.slow_s must be >= 0, got {self.slow_s!r}")
        if self.retry_after_s < 0:
            raise ValueError(f"Faults.retry_after_s must be >= 0, got {self.retry_after_s!r}")


def default_answer(body: dict) -> str:
    """YES if the first byte of sha256(json.dumps(messages, sort_keys=True)) is even, else NO."""
    messages = body.get("messages", [])
    digest = hashlib.sha256(json.dumps(messages, sort_keys=True).encode()).digest()
    return "YES" if digest[0] % 2 == 0 else "NO"


def canonical_json(body: Any) -> str:
    return json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def choose_fault(faults: Faults, canonical: str, attempt: int) -> str | None:
    """The fault for this attempt (0 = first time this exact body is seen) of a request, or None."""
    if faults.rate <= 0.0:
        return None
    digest = hashlib.sha256(f"{faults.seed}\n{attempt}\n{canonical}".encode()).digest()
    rng = random.Random(int.from_bytes(digest[:8], "big"))
    if rng.random() < faults.rate:
        return rng.choice(faults.kinds)
    return None


def message_text(message: Any) -> str:
    """The text of a chat message: a string content, or the text parts of a list content."""
    content = message.get("content") if isinstance(message, dict) else None
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return " ".join(
            part.get("text", "") for part in content if isinstance(part, dict) and isinstance(part.get("text"), str)
        )
    return ""


def usage(messages: list, answer: str) -> dict:
    prompt_tokens = sum(len(message_text(m).split()) for m in messages)
    completion_tokens = len(answer.split())
    return {
        "prompt_tokens": prompt_tokens,
        "completion_tokens": completion_tokens,
        "total_tokens": prompt_tokens + completion_tokens,
    }


def completion(body: dict, content: str) -> dict:
    """An OpenAI chat.completion response object answering `body` with `content`."""
    return {
        "id": f"chatcmpl-{uuid.uuid4().hex}",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": body.get("model") or MODEL_ID,
        "choices": [{"index": 0, "message": {"role": "assistant", "content": content}, "finish_reason": "stop"}],
        "usage": usage(body.get("messages", []), content),
    }


def error_body(message: str, type_: str, code: str | None = None) -> dict:
    return {"error": {"message": message, "type": type_, "param": None, "code": code}}


def models_body() -> dict:
    return {"object": "list", "data": [{"id": MODEL_ID, "object": "model", "created": 0, "owned_by": "rtt"}]}


def parse_body(raw: bytes) -> dict | str:
    """The request as a dict, or the reason it is not a valid chat completion request."""
    try:
        body = json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError) as err:
        return f"request body is not valid JSON: {err}"
    if not isinstance(body, dict):
        return "request body must be a JSON object"
    if not isinstance(body.get("messages"), list):
        return "'messages' is required and must be a list"
    return body


class _Stats:
    """Thread-safe counters of one server."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.reset()

    def reset(self) -> None:
        self.requests = 0
        self.faults: Counter[str] = Counter()
        self.answered = 0
        self.in_flight = 0
        self.max_in_flight = 0
        self.bodies: list[dict] = []
        self.attempts: Counter[str] = Counter()
        self.authorized = 0
        self.unauthorized = 0

    def enter(self) -> None:
        with self.lock:
            self.requests += 1
            self.in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self.in_flight)

    def leave(self) -> None:
        with self.lock:
            self.in_flight -= 1

    def record_body(self, body: dict, canonical: str) -> int:
        """Keep the body; return its attempt number (how often this exact body was seen before)."""
        with self.lock:
            self.bodies.append(body)
            attempt = self.attempts[canonical]
            self.attempts[canonical] += 1
            return attempt

    def record_auth(self, ok: bool) -> None:
        with self.lock:
            if ok:
                self.authorized += 1
            else:
                self.unauthorized += 1

    def record_fault(self, kind: str) -> None:
        with self.lock:
            self.faults[kind] += 1

    def record_answer(self) -> None:
        with self.lock:
            self.answered += 1


class _HTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 256  # many concurrent clients connect at once in benchmarks

    def __init__(self, owner: LocalServer) -> None:
        self.owner = owner
        self.connections: set[socket.socket] = set()
        self.connections_lock = threading.Lock()
        super().__init__(("127.0.0.1", owner.requested_port), _Handler)

    def handle_error(self, request: Any, client_address: Any) -> None:
        if isinstance(sys.exc_info()[1], OSError):  # the client went away (timeouts, drops, stop())
            return
        super().handle_error(request, client_address)

    def close_connections(self) -> None:
        with self.connections_lock:
            connections = list(self.connections)
        for conn in connections:
            shutdown_socket(conn)


def shutdown_socket(conn: socket.socket) -> None:
    try:
        conn.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "rtt-local-llm/0.1"
    server: _HTTPServer

    def setup(self) -> None:
        super().setup()
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        with self.server.connections_lock:
            self.server.connections.add(self.connection)

    def finish(self) -> None:
        with self.server.connections_lock:
            self.server.connections.discard(self.connection)
        super().finish()

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the base class's name
        pass

    @property
    def owner(self) -> LocalServer:
        return self.server.owner

    def route(self) -> str:
        return self.path.split("?", 1)[0].rstrip("/")

    def do_GET(self) -> None:
        if not self.authorized():
            return
        if self.route() == MODELS_PATH:
            self.send_json(200, models_body())
        elif self.route() == STATS_PATH:  # for a server in another process (python -m rtt.testing.llm_server)
            owner = self.owner
            self.send_json(
                200,
                {
                    "requests": owner.requests,
                    "faults": dict(owner.faults),
                    "answered": owner.answered,
                    "max_in_flight": owner.max_in_flight,
                },
            )
        else:
            self.send_json(404, error_body(f"unknown path {self.path!r}", "invalid_request_error"))

    def do_POST(self) -> None:
        raw = self.read_body()
        if self.route() != CHAT_PATH:
            if self.authorized():
                self.send_json(404, error_body(f"unknown path {self.path!r}", "invalid_request_error"))
            return
        stats = self.owner.stats
        stats.enter()
        try:
            if not self.wait(self.owner.latency_s) and self.authorized():
                self.chat_completion(raw)
        finally:
            stats.leave()

    def wait(self, seconds: float) -> bool:
        """Sleep `seconds`, waking at once if the client hangs up (it gave up, e.g. on a timeout: the
        socket reads EOF) or the server stops; True then, and the request ends unanswered, so
        `in_flight` counts only requests a client still awaits."""
        deadline = time.monotonic() + seconds
        while (left := deadline - time.monotonic()) > 0:
            try:
                readable, _, _ = select.select([self.connection], [], [], min(left, 0.1))
                gone = bool(readable) and self.connection.recv(1, socket.MSG_PEEK) == b""
            except OSError:
                gone = True
            if gone or self.owner._stopping.is_set():
                self.close_connection = True
                return True
        return False

    def read_body(self) -> bytes:
        try:
            length = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            length = 0
        if length <= 0 and self.headers.get("Transfer-Encoding"):
            self.close_connection = True  # chunked bodies are not supported; do not reuse the stream
        return self.rfile.read(length) if length > 0 else b""

    def authorized(self) -> bool:
        key = self.owner.api_key
        if key is None:
            return True
        received = self.headers.get("Authorization")
        ok = received == f"Bearer {key}"
        self.owner.stats.record_auth(ok)
        if ok:
            return True
        message = (
            f"Incorrect API key provided: {received.removeprefix('Bearer ')}."
            if received
            else "Missing API key (Authorization: Bearer ...)."
        )
        self.send_json(401, error_body(message, "invalid_request_error", "invalid_api_key"))
        return False

    def chat_completion(self, raw: bytes) -> None:
        body = parse_body(raw)
        if isinstance(body, str):
            self.close_connection = True
            self.send_json(400, error_body(body, "invalid_request_error"))
            return
        canonical = canonical_json(body)
        attempt = self.owner.stats.record_body(body, canonical)
        fault = choose_fault(self.owner.fault_config, canonical, attempt)
        if fault is not None:
            self.owner.stats.record_fault(fault)
            if self.inject(fault, body):
                return
        self.answer(body)

    def inject(self, fault: str, body: dict) -> bool:
        """Apply `fault`; True when the response is complete, False to go on and answer normally."""
        config = self.owner.fault_config
        if fault == "slow":
            return self.wait(config.slow_s)
        if fault == "rate_limit":
            headers = {"Retry-After": f"{config.retry_after_s:g}"}
            self.send_json(
                429, error_body("Rate limit reached (injected fault).", "requests", "rate_limit_exceeded"), headers
            )
        elif fault == "server_error":
            self.send_json(500, error_body("The server had an error (injected fault).", "server_error"))
        elif fault == "drop":
            self.close_connection = True
            shutdown_socket(self.connection)
        elif fault == "malformed_json":
            text = json.dumps(completion(body, default_answer(body)))
            self.send_bytes(200, text[: len(text) // 2].encode(), "application/json")
        elif fault == "refusal":
            self.send_completion(body, REFUSAL)
        elif fault == "garbage":
            self.send_completion(body, GARBAGE)
        return True

    def answer(self, body: dict) -> None:
        try:
            content = self.owner.answer(body)
        except Exception as err:  # noqa: BLE001 - a test's answer function failing is reported to the client
            self.send_json(500, error_body(f"answer function raised {type(err).__name__}: {err}", "server_error"))
            return
        self.send_completion(body, content)

    def send_completion(self, body: dict, content: str) -> None:
        self.owner.stats.record_answer()
        self.send_json(200, completion(body, content))

    def send_json(self, status: int, payload: dict, headers: dict[str, str] | None = None) -> None:
        self.send_bytes(status, json.dumps(payload).encode(), "application/json", headers)

    def send_bytes(self, status: int, data: bytes, content_type: str, headers: dict[str, str] | None = None) -> None:
        try:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(data)))
            for name, value in (headers or {}).items():
                self.send_header(name, value)
            if self.close_connection:
                self.send_header("Connection", "close")
            self._headers_buffer.append(b"\r\n" + data)  # headers and body in one write (no Nagle delay)
            self.flush_headers()
        except OSError:  # the client went away (it timed out, or the server is stopping)
            self.close_connection = True


class LocalServer:
    """An OpenAI-compatible server on 127.0.0.1 (a free port), served from a daemon thread.

    `with LocalServer(answer=..., faults=Faults(...), latency_s=0.0, api_key=None) as server:`
    then point a client at `server.base_url` ("http://127.0.0.1:<port>/v1").
    """

    def __init__(
        self,
        answer: Answer = default_answer,
        faults: Faults | None = None,
        latency_s: float = 0.0,
        api_key: str | None = None,
        port: int = 0,
    ) -> None:
        if latency_s < 0:
            raise ValueError(f"latency_s must be >= 0, got {latency_s!r}")
        self.answer = answer
        self.fault_config = faults if faults is not None else Faults()
        self.latency_s = latency_s
        self.api_key = api_key
        self.requested_port = port
        """0: any free port."""
        self.stats = _Stats()
        self._stopping = threading.Event()
        self._httpd: _HTTPServer | None = None
        self._thread: threading.Thread | None = None

    def start(self) -> LocalServer:
        if self._httpd is not None:
            raise RuntimeError("LocalServer is already running")
        self._stopping.clear()
        self._httpd = _HTTPServer(self)
        self._thread = threading.Thread(
            target=self._httpd.serve_forever,
            kwargs={"poll_interval": 0.05},
            name=f"rtt-local-llm-{self.port}",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving: wake sleeping handlers, close open connections, join the serving thread."""
        httpd, thread = self._httpd, self._thread
        if httpd is None:
            return
        self._stopping.set()
        httpd.shutdown()
        httpd.close_connections()
        httpd.server_close()
        if thread is not None:
            thread.join()
        self._httpd = self._thread = None

    def __enter__(self) -> LocalServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def port(self) -> int:
        if self._httpd is None:
            raise RuntimeError("LocalServer is not running")
        return self._httpd.server_address[1]

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    @property
    def requests(self) -> int:
        with self.stats.lock:
            return self.stats.requests

    @property
    def faults(self) -> Counter[str]:
        with self.stats.lock:
            return Counter(self.stats.faults)

    @property
    def answered(self) -> int:
        with self.stats.lock:
            return self.stats.answered

    @property
    def in_flight(self) -> int:
        with self.stats.lock:
            return self.stats.in_flight

    @property
    def max_in_flight(self) -> int:
        with self.stats.lock:
            return self.stats.max_in_flight

    @property
    def authorized(self) -> int:
        """Requests that carried `Bearer <api_key>` (0 when no `api_key` is set)."""
        with self.stats.lock:
            return self.stats.authorized

    @property
    def unauthorized(self) -> int:
        """Requests answered 401 for a missing or wrong key."""
        with self.stats.lock:
            return self.stats.unauthorized

    @property
    def bodies(self) -> list[dict]:
        with self.stats.lock:
            return list(self.stats.bodies)

    def reset_counters(self) -> None:
        """Zero every counter and forget the bodies seen, so attempt numbers start again at 0."""
        with self.stats.lock:
            in_flight = self.stats.in_flight
            self.stats.reset()
            self.stats.in_flight = self.stats.max_in_flight = in_flight


def main(argv: list[str] | None = None) -> None:
    """`python -m rtt.testing.llm_server [--latency-s 0.05] [--fault-rate 0.3] [--seed 0] [--port 0]`: serve
    until interrupted, printing the base URL first; GET /stats returns the counters."""
    import argparse

    parser = argparse.ArgumentParser(description=main.__doc__.split(":")[0])
    parser.add_argument("--latency-s", type=float, default=0.0)
    parser.add_argument("--fault-rate", type=float, default=0.0)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--port", type=int, default=0)
    args = parser.parse_args(argv)
    server = LocalServer(faults=Faults(rate=args.fault_rate, seed=args.seed), latency_s=args.latency_s, port=args.port)
    with server:
        print(server.base_url, flush=True)
        try:
            threading.Event().wait()
        except KeyboardInterrupt:
            pass


if __name__ == "__main__":
    main()
