"""Verifiable (IFEval) instruction checkers that report which characters decided the verdict.

    check("punctuation:no_comma", {}, "Hi, there")  # Verdict(passed=False, spans=[(2, 3)])
    describe("punctuation:no_comma", {})            # "The response does not contain any commas."
"""

from rtt.constraints.checkers import Verdict
from rtt.constraints.registry import INSTRUCTION_IDS, check, describe

__all__ = ["INSTRUCTION_IDS", "Verdict", "check", "describe"]
