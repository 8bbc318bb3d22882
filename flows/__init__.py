"""Prefect flows: thin wrappers over `rtt.runs`, one per stage, plus the pipeline.

Importing this package (before Prefect itself) turns analytics off and shows the library's `rtt`
loggers (stage summaries, GRPO step lines) in the flow-run logs and the UI.
"""

import logging
import os

os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
os.environ.setdefault("PREFECT_LOGGING_EXTRA_LOGGERS", "rtt")
logging.getLogger("rtt").setLevel(logging.INFO)
