"""Prefect's temporary API server, started so that the terminal's Ctrl-C does not reach it.

With no PREFECT_API_URL, Prefect starts a server in a subprocess on first use. That subprocess is in
the terminal's process group, so Ctrl-C stopped it along with the run: the interrupted run then spent
over a minute retrying the dead API and ended with a traceback instead of stopping cleanly. Started
here with SIGINT blocked, the server inherits the blocked signal (a signal mask survives fork and
exec, and installing a handler does not unblock it) and stops only when Prefect stops it at exit.
"""

from __future__ import annotations

import signal

from prefect.settings import PREFECT_API_URL, PREFECT_SERVER_EPHEMERAL_ENABLED


def start_temporary_server() -> None:
    """Start Prefect's temporary server now, deaf to SIGINT; a no-op when an API URL is set."""
    if PREFECT_API_URL.value() or not PREFECT_SERVER_EPHEMERAL_ENABLED.value():
        return
    from prefect.server.api.server import SubprocessASGIServer

    before = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
    try:
        SubprocessASGIServer().start()  # the instance Prefect's clients use (one per process)
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, before)  # a Ctrl-C meanwhile arrives now
