"""Prompts and rubric items from dataset files: one reader per file format, one signature, one
output shape. `FORMATS` holds the readers by the format names `rubrics.source` takes:

  ifeval_jsonl   IFEval JSONL, rule-graded items (`rtt.importers.ifeval`)
  verl_parquet   verl Parquet holding IFEval's instruction ids, rule-graded items (`rtt.importers.verl`)
  rar, rubrichub, healthbench
                 LLM-graded items with weights and pitfalls (`rtt.importers.rubric_sets`)
  prompts        plain prompts without items, whose rubrics the LLM writer writes (`rtt.importers.plain`)

Each format's module describes its file. A reader, `(path, n_prompts=0, unknown_ids="error")`,
reads and validates the whole file, then keeps its first `n_prompts` prompts (0: all), and returns
an `ImportedPrompts`: one dict per prompt in file order,

    {"prompt_id", "prompt", "task", "source", ["split",] ["messages",]
     "items": [{"text", "weight", "kind", "checker", "kwargs", "pitfall", "category", "points"}, ...]}

with its rubric items (`rtt.importers.items`), and `report()`, what the rubrics stage's summary says
of the import. `unknown_ids` concerns the rule-graded formats only: an instruction id with no rule
checker is an error ("error") or its item is dropped ("skip").

Every problem raises `DatasetError` naming the file, the place (`line N`, 1-based, in JSONL;
`item N`, 0-based, in a JSON list; `row N`, 0-based as in pyarrow/pandas, in Parquet) and the
field, e.g.

    data.jsonl: line 3: kwargs[2].num_words: length_constraints:number_words: kwarg 'num_words' must be int, got 'many'
    train.parquet: row 0: reward_model.ground_truth: invalid JSON: Expecting value: line 1 column 1 (char 0)
    rar.jsonl: line 3: rubric[2].description: must start with one of 'Essential Criteria:', ...
    healthbench_eval.jsonl: line 7: rubrics[0].points: is 0: ...
"""

from __future__ import annotations

import os
from collections.abc import Callable

from rtt.importers.ifeval import read_ifeval_jsonl
from rtt.importers.imported import ImportedPrompts, UnknownIds
from rtt.importers.plain import read_prompts
from rtt.importers.rows import DatasetError
from rtt.importers.rubric_sets import read_healthbench, read_rar, read_rubrichub
from rtt.importers.verl import read_verl_parquet

__all__ = ["FORMATS", "DatasetError", "ImportedPrompts", "Reader", "UnknownIds", "read"]

Reader = Callable[[str | os.PathLike, int, UnknownIds], ImportedPrompts]
"""(path, n_prompts = 0, unknown_ids = "error") -> ImportedPrompts: see the module docstring."""

FORMATS: dict[str, Reader] = {
    "ifeval_jsonl": read_ifeval_jsonl,
    "verl_parquet": read_verl_parquet,
    "rar": read_rar,
    "rubrichub": read_rubrichub,
    "healthbench": read_healthbench,
    "prompts": read_prompts,
}
"""Format name (a `rubrics.source`) -> its reader."""


def read(
    format: str, path: str | os.PathLike, n_prompts: int = 0, unknown_ids: UnknownIds = "error"
) -> ImportedPrompts:
    """The prompts of a dataset file in `format` (a key of FORMATS): the whole file validated, then
    the first n_prompts, in file order (0: all). `unknown_ids` concerns rule-graded formats only."""
    if format not in FORMATS:
        raise ValueError(f"unknown dataset format {format!r}; formats: {', '.join(FORMATS)}")
    return FORMATS[format](path, n_prompts, unknown_ids)
