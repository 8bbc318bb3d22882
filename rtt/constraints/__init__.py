"""Verifiable (IFEval) instruction checkers that report which characters decided the verdict.

check("punctuation:no_comma", {}, "Hi, there")  # Verdict(passed=False, spans=[(2, 3)])
describe("punctuation:no_comma", {})            # "The response does not contain any commas."
"""

from rtt.constraints.registry import IFEVAL_IDS, INSTRUCTION_IDS, check, describe
from rtt.constraints.spans import Verdict

__all__ = ["IFEVAL_IDS", "INSTRUCTION_IDS", "Verdict", "check", "describe"]
