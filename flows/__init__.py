"""Prefect flows, thin wrappers over `rtt.runs` (one per stage, the pipeline, compare, campaigns),
and the `rtt` command that starts them (`flows.cli`).

Importing this package (before Prefect itself) turns analytics off, gives Prefect's ephemeral API
server three minutes to start instead of 20 s (on two busy cores a first run timed out), and shows
the library's `rtt` loggers (stage summaries, GRPO step lines) in the flow-run logs and the UI.
"""

import logging
import os

os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "180")
os.environ.setdefault("PREFECT_LOGGING_EXTRA_LOGGERS", "rtt")
logging.getLogger("rtt").setLevel(logging.INFO)
