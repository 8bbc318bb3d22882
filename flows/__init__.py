"""Prefect flows: thin wrappers over `rtt.runs`, one per stage, plus the pipeline."""
