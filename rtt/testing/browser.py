"""Pages in a real browser: headless Chromium (Debian's `chromium` package) over the DevTools protocol.

`Browser()` starts one Chromium on loopback; `visit(url, checks)` loads a page in a fresh tab, waits
for its load event, and returns what a person would have seen and what went wrong on the way:
console errors, uncaught exceptions, failed requests, the answers to `checks` (JavaScript
expressions run in the page) and a full-page screenshot. The WebSocket client is `websockets`
(Prefect's dependency); nothing else is needed but the `chromium` binary.
"""

from __future__ import annotations

import base64
import itertools
import json
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--hide-scrollbars",
    "--remote-allow-origins=*",
]
WIDTH, HEIGHT = 1400, 1000
"""The window a page is seen in: a laptop screen."""


class BrowserError(RuntimeError):
    """Chromium is missing, or refused a DevTools command."""


def chromium() -> str | None:
    """The path of Debian's `chromium`, or None where it is not installed."""
    return shutil.which("chromium")


@dataclass
class Visit:
    url: str
    console_errors: list[str] = field(default_factory=list)
    """console.error/assert calls, browser log errors, and uncaught exceptions."""
    failed_requests: list[str] = field(default_factory=list)
    checks: dict[str, object] = field(default_factory=dict)
    """Each check's JavaScript expression -> its value in the page."""
    screenshot: bytes = b""
    """A PNG of the whole page, WIDTH wide."""


class Tab:
    """One DevTools page session: commands and the events that arrive between their answers."""

    def __init__(self, ws_url: str, timeout: float):
        from websockets.sync.client import connect

        self.ws = connect(ws_url, max_size=None, open_timeout=timeout)
        self.ids = itertools.count(1)
        self.events: list[dict] = []
        self.timeout = timeout

    def call(self, method: str, **params) -> dict:
        n = next(self.ids)
        self.ws.send(json.dumps({"id": n, "method": method, "params": params}))
        while True:
            message = self.receive()
            if message.get("id") == n:
                if "error" in message:
                    raise BrowserError(f"{method}: {message['error']}")
                return message.get("result", {})

    def receive(self, timeout: float | None = None) -> dict:
        message = json.loads(self.ws.recv(timeout=timeout or self.timeout))
        if "method" in message:
            self.events.append(message)
        return message

    def settle(self, seconds: float) -> None:
        """Keep collecting events for `seconds` while the page's scripts render."""
        deadline = time.monotonic() + seconds
        while (left := deadline - time.monotonic()) > 0:
            try:
                self.receive(left)
            except TimeoutError:
                return

    def wait_for(self, event: str) -> None:
        deadline = time.monotonic() + self.timeout
        while not any(e["method"] == event for e in self.events):
            if time.monotonic() > deadline:
                raise BrowserError(f"no {event} within {self.timeout} s")
            self.receive()

    def close(self) -> None:
        self.ws.close()


def problems(events: list[dict]) -> tuple[list[str], list[str]]:
    """(console errors, failed requests) among a tab's DevTools events."""
    errors, failed = [], []
    for e in events:
        p = e.get("params", {})
        if e["method"] == "Runtime.consoleAPICalled" and p["type"] in ("error", "assert"):
            errors.append(" ".join(str(a.get("value", a.get("description", ""))) for a in p["args"]))
        elif e["method"] == "Runtime.exceptionThrown":
            details = p["exceptionDetails"]
            errors.append(details.get("exception", {}).get("description") or details.get("text", "exception"))
        elif e["method"] == "Log.entryAdded" and p["entry"]["level"] == "error":
            errors.append(p["entry"]["text"])
        elif e["method"] == "Network.loadingFailed" and not p.get("canceled"):
            failed.append(f"{p.get('errorText')} ({p['requestId']})")
    return errors, failed


class Browser:
    """One headless Chromium for a series of visits (a context manager)."""

    def __init__(self, timeout: float = 60):
        binary = chromium()
        if not binary:
            raise BrowserError("needs Debian's chromium: apt-get install chromium")
        self.timeout = timeout
        self.profile = Path(tempfile.mkdtemp(prefix="rtt-chromium-"))
        self.process = subprocess.Popen(
            [
                binary,
                *FLAGS,
                f"--window-size={WIDTH},{HEIGHT}",
                f"--user-data-dir={self.profile}",
                "--remote-debugging-port=0",
                "about:blank",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        self.endpoint = self.wait_for_endpoint()

    def wait_for_endpoint(self) -> str:
        """Chromium writes the port it chose to DevToolsActivePort in its profile (AssertionError if
        it exits first, or writes none within the timeout)."""
        from rtt.testing.loopback import wait_for

        port = self.profile / "DevToolsActivePort"
        written = wait_for(lambda: port.exists() and port.read_text().split(), self.timeout, "chromium", self.process)
        return f"http://127.0.0.1:{written[0]}"

    def __enter__(self) -> Browser:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        self.process.kill()
        self.process.wait()
        shutil.rmtree(self.profile, ignore_errors=True)

    def visit(self, url: str, checks: list[str] = (), settle_s: float = 0, script: str | None = None) -> Visit:
        """Load `url` in a new tab, give its scripts `settle_s` seconds to render, run `script`
        (and settle again); then its problems, the values of `checks` and a full-page screenshot."""
        request = urllib.request.Request(f"{self.endpoint}/json/new?about:blank", method="PUT")
        with urllib.request.urlopen(request, timeout=self.timeout) as answer:
            target = json.loads(answer.read())
        tab = Tab(target["webSocketDebuggerUrl"], self.timeout)
        try:
            for domain in ("Page", "Runtime", "Log", "Network"):
                tab.call(f"{domain}.enable")
            tab.call("Page.navigate", url=url)
            tab.wait_for("Page.loadEventFired")
            tab.settle(settle_s)
            if script:
                tab.call("Runtime.evaluate", expression=script)
                tab.settle(settle_s)
            visit = Visit(url)
            for check in checks:
                answer = tab.call("Runtime.evaluate", expression=check, returnByValue=True)
                visit.checks[check] = answer.get("result", {}).get("value")
            size = tab.call("Page.getLayoutMetrics")["cssContentSize"]
            shot = tab.call(
                "Page.captureScreenshot",
                format="png",
                captureBeyondViewport=True,
                clip={"x": 0, "y": 0, "width": WIDTH, "height": max(size["height"], 1), "scale": 1},
            )
            visit.screenshot = base64.b64decode(shot["data"])
            visit.console_errors, visit.failed_requests = problems(tab.events)
            return visit
        finally:
            tab.close()
            urllib.request.urlopen(f"{self.endpoint}/json/close/{target['id']}", timeout=self.timeout).close()


def check_pages(data_dir: str | Path, run_id: str, out: Path) -> tuple[subprocess.CompletedProcess, list[dict]]:
    """Run `scripts/check_pages.py` on a run's pages: (the process, its pages.json)."""
    from rtt.testing.loopback import REPO

    done = subprocess.run(
        [sys.executable, str(REPO / "scripts" / "check_pages.py"), "--data-dir", str(data_dir)]
        + ["--run-id", run_id, "--out", str(out)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    report = out / "pages.json"
    return done, json.loads(report.read_text()) if report.exists() else []
