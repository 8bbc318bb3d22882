"""One registry entry: the checker, the kwargs it takes and the rubric-item template.

A kwargs spec maps each key to its type: `int`, `str`, `list[str]`, or a tuple of the allowed
strings. Every key is required; `rtt.constraints.check` rejects missing, unexpected and wrongly
typed ones before the checker runs.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

from rtt.constraints.spans import Verdict

RELATIONS = ("less than", "at least")


class Instruction(NamedTuple):
    checker: Callable[..., Verdict]
    """checker(response, **kwargs) -> Verdict."""
    kwargs: dict[str, object]
    """key -> int | str | list[str] | tuple of allowed strings."""
    template: str | Callable[[dict], str]
    """The rubric item: a format string over the kwargs (lists shown as "a", "b"), or a function
    of the kwargs where a value needs translating (a language code into its name)."""
