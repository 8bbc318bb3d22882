"""Rubric items as readers (and the rubrics stage, for generated prompts) hand them on, one dict per item:

{"text", "weight", "kind": "rule" | "llm", "checker", "kwargs", "pitfall", "category", "points"}
"""

from __future__ import annotations


def rule_item(constraint: dict) -> dict:
    """A verifiable constraint ({"instruction_id", "kwargs", "text"}: built-in, testbed, IFEval, verl) as a
    rubric item."""
    return {
        "text": constraint["text"],
        "weight": 1.0,
        "kind": "rule",
        "checker": constraint["instruction_id"],
        "kwargs": constraint["kwargs"],
        "pitfall": False,
        "category": None,
        "points": None,
    }


def llm_item(text: str, weight: float, pitfall: bool, category: str | None, points: float | None) -> dict:
    """A criterion the LLM judge grades."""
    return {
        "text": text,
        "weight": weight,
        "kind": "llm",
        "checker": None,
        "kwargs": {},
        "pitfall": pitfall,
        "category": category,
        "points": points,
    }
