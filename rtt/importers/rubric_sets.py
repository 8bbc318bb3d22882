"""LLM-graded rubric items, with weights and pitfalls, from three public rubric formats: RaR,
RubricHub, HealthBench. Their files and the prompts they give: `rtt.importers.conversations`;
their items: {"text", "weight", "kind": "llm", "checker": None, "kwargs": {}, "pitfall",
"category", "points"}.

Weights and pitfalls. An item with `pitfall` True describes a fault: a judge that finds it met
gives a violation (verdict -1). An item is a pitfall when its source points (or RaR weight) are
negative, or when its RaR category is Pitfall. `weight` is always > 0: the absolute value of the
source's number, or the RaR category's default when the item gives none. `points` keeps the
source's signed number as given (None when it gave none); `category` is RaR's category
(essential | important | optional | pitfall), None for the other formats.

RaR, Rubrics as Rewards (arXiv 2507.17746; `read_rar`, source "rar"):

    {"question": "Which imaging test ...?",
     "rubric": [{"title": "Names the test", "description": "Essential Criteria: Names CT ...", "weight": 5},
                {"title": "Wrong test", "description": "Pitfall Criteria: Recommends MRI ...", "weight": -1}]}

  prompt | question   the prompt: a non-empty string or a list of chat messages (`prompt` wins)
  rubric | rubrics    non-empty list of criteria (Parquet: a list of structs or a JSON string)
    description       non-empty string starting with "Essential Criteria:", "Important Criteria:",
                      "Optional Criteria:" or "Pitfall Criteria:" (case-insensitive), unless the
                      criterion gives `category` ("Essential", "essential criteria", ...); when both
                      are given they must agree. Item text = the description without its prefix,
                      as "title: text" when the title's words do not already appear in it.
    title             string or null, optional
    weight            number, optional, not 0. Missing: Essential 5, Important 3, Optional 1,
                      Pitfall 2. Negative: a pitfall whatever the category.
  prompt_id = "rar-" + stable_id("rar", messages). Other fields (reference_answer, rubric_list, ...)
  are ignored.

RubricHub (`read_rubrichub`, source "rubrichub"):

    {"prompt": [{"role": "user", "content": "Write a haiku ..."}],
     "rubrics": [{"criterion": "Has three lines.", "points": 5, "tags": {"verifier": "llm"}},
                 {"criterion": "Mentions the author's name.", "points": -3}]}

  prompt              a non-empty string or a list of chat messages
  rubrics | rubric    non-empty list of criteria (Parquet: a list of structs or a JSON string). A row
                      with neither, but a `reward_model` (object or JSON string) holding `rubrics`,
                      is read from there (the verl layout, `reward_model.rubrics`).
    criterion         non-empty string
    points | weight   number, not 0 (`weight` is an alias; if both are given they must agree);
                      negative: a pitfall. tags, axis and other keys are ignored.
  prompt_id = "rubrichub-" + stable_id("rubrichub", messages).

HealthBench (OpenAI simple-evals, `healthbench_eval.jsonl`; `read_healthbench`, source
"healthbench"): criteria as for RubricHub, under `rubrics`.

    {"prompt_id": "c5f6bb12-...", "prompt": [{"role": "user", "content": "I have chest pain ..."}],
     "rubrics": [{"criterion": "Advises calling emergency services.", "points": 8,
                  "tags": ["level:example", "axis:completeness"]},
                 {"criterion": "Fails to ask about red flags.", "points": -6, "tags": [...]}],
     "example_tags": ["theme:emergency_referrals", ...]}

  prompt_id           non-empty string; our prompt_id = "healthbench-<prompt_id>"
  example_tags        list of strings, optional; one "theme:X" tag gives task "healthbench:X"
                      (none: "healthbench"; two: an error). ideal_completions_data and canary are
                      ignored.
"""

from __future__ import annotations

import math
import os
import re

from rtt.importers.conversations import conversation, hashed_id, prompt_dict, read_conversations
from rtt.importers.imported import ImportedPrompts, UnknownIds
from rtt.importers.items import llm_item
from rtt.importers.rows import Row, nonempty, parse_json, present, required, type_name

RAR_WEIGHTS = {"essential": 5.0, "important": 3.0, "optional": 1.0, "pitfall": 2.0}
RAR_PREFIX = re.compile(r"\s*(essential|important|optional|pitfall)\s+criteria\s*:\s*", re.IGNORECASE)
RAR_PREFIXES = ", ".join(f"'{name.capitalize()} Criteria:'" for name in RAR_WEIGHTS)


# --- criteria --------------------------------------------------------------------------------


def _number(row: Row, field: str, value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise row.error(field, f"must be a number, got {value!r}"[:300])
    if value == 0:
        raise row.error(field, "is 0: a criterion must count for something (a negative number marks a pitfall)")
    return float(value)


def _criteria(row: Row, field: str, value: object) -> list:
    """A non-empty list of criteria, given as a list or (Parquet) as a JSON string of one."""
    if isinstance(value, str):
        value = parse_json(row, field, value)
    if not isinstance(value, list) or not value:
        raise row.error(field, f"must be a non-empty list of criteria, got {value!r}"[:300])
    return value


# --- points criteria (RubricHub, HealthBench) --------------------------------------------------


def _points_item(row: Row, field: str, criterion: object) -> dict:
    if not isinstance(criterion, dict):
        raise row.error(field, f"must be an object {{criterion, points}}, got {type_name(criterion)}")
    text = nonempty(row, f"{field}.criterion", criterion.get("criterion"))
    points, weight = criterion.get("points"), criterion.get("weight")
    if points is None and weight is None:
        raise row.error(f"{field}.points", "missing")
    if points is not None and weight is not None and points != weight:
        raise row.error(f"{field}.weight", f"is {weight!r} but points is {points!r}; give one of them")
    key = "points" if points is not None else "weight"
    value = _number(row, f"{field}.{key}", criterion[key])
    return llm_item(text.strip(), abs(value), value < 0, None, value)


def _points_items(row: Row, field: str, value: object) -> list[dict]:
    return [_points_item(row, f"{field}[{i}]", c) for i, c in enumerate(_criteria(row, field, value))]


# --- RaR -------------------------------------------------------------------------------------


def _category_name(given: str) -> str:
    """'Essential Criteria:' / 'essential' -> 'essential'."""
    return re.sub(r"\s+criteria$", "", given.strip().rstrip(":").strip(), flags=re.IGNORECASE).lower()


def _rar_category(row: Row, field: str, description: str, given: object) -> tuple[str, str]:
    """(category, description without its prefix)."""
    match = RAR_PREFIX.match(description)
    prefix = match.group(1).lower() if match else None
    text = description[match.end() :].strip() if match else description.strip()
    if given is not None:
        if not isinstance(given, str) or _category_name(given) not in RAR_WEIGHTS:
            raise row.error(f"{field}.category", f"must be one of {list(RAR_WEIGHTS)}, got {given!r}"[:300])
        if prefix is not None and prefix != _category_name(given):
            raise row.error(
                f"{field}.category", f"{given!r} contradicts the description's prefix {match.group(0).strip()!r}"
            )
        category = _category_name(given)
    elif prefix is not None:
        category = prefix
    else:
        raise row.error(
            f"{field}.description",
            f"must start with one of {RAR_PREFIXES} (or the criterion must give category), got {description!r}"[:300],
        )
    if not text:
        raise row.error(f"{field}.description", "empty after its category prefix")
    return category, text


def _words(text: str) -> str:
    return " " + " ".join(re.findall(r"\w+", text.lower())) + " "


def _with_title(row: Row, field: str, title: object, text: str) -> str:
    """'title: text', unless the title is empty or its words already appear in the text."""
    if title is not None and not isinstance(title, str):
        raise row.error(field, f"must be a string, got {type_name(title)}")
    title = (title or "").strip().rstrip(":").strip()
    if not title or _words(title) in _words(text):
        return text
    return f"{title}: {text}"


def _rar_item(row: Row, field: str, criterion: object) -> dict:
    if not isinstance(criterion, dict):
        raise row.error(field, f"must be an object {{title, description, weight}}, got {type_name(criterion)}")
    description = nonempty(row, f"{field}.description", criterion.get("description"))
    category, text = _rar_category(row, field, description, criterion.get("category"))
    text = _with_title(row, f"{field}.title", criterion.get("title"), text)
    if criterion.get("weight") is None:
        return llm_item(text, RAR_WEIGHTS[category], category == "pitfall", category, None)
    value = _number(row, f"{field}.weight", criterion["weight"])
    return llm_item(text, abs(value), category == "pitfall" or value < 0, category, value)


def _rar_prompt(row: Row, data: dict) -> tuple[dict, str]:
    key = present(row, data, ("prompt", "question"))
    messages = conversation(row, key, data[key])
    field = present(row, data, ("rubric", "rubrics"))
    items = [_rar_item(row, f"{field}[{i}]", c) for i, c in enumerate(_criteria(row, field, data[field]))]
    return prompt_dict("rar", "rar", hashed_id("rar", messages), messages, items), key


# --- RubricHub -------------------------------------------------------------------------------


def _rubrichub_criteria(row: Row, data: dict) -> tuple[str, object]:
    """(field path, criteria value): `rubrics`, `rubric`, or the verl layout's `reward_model.rubrics`."""
    if data.get("rubrics") is None and data.get("rubric") is None and data.get("reward_model") is not None:
        model = data["reward_model"]
        if isinstance(model, str):
            model = parse_json(row, "reward_model", model)
        if not isinstance(model, dict):
            raise row.error("reward_model", f"must be an object holding rubrics, got {type_name(model)}")
        if model.get("rubrics") is None:
            raise row.error("reward_model.rubrics", "missing (and the row has no rubrics nor rubric)")
        return "reward_model.rubrics", model["rubrics"]
    field = present(row, data, ("rubrics", "rubric"))
    return field, data[field]


def _rubrichub_prompt(row: Row, data: dict) -> tuple[dict, str]:
    messages = conversation(row, "prompt", required(row, data, "prompt"))
    items = _points_items(row, *_rubrichub_criteria(row, data))
    return prompt_dict("rubrichub", "rubrichub", hashed_id("rubrichub", messages), messages, items), "prompt"


# --- HealthBench -----------------------------------------------------------------------------


def _healthbench_task(row: Row, tags: object) -> str:
    if tags is None:
        return "healthbench"
    if not isinstance(tags, list) or not all(isinstance(t, str) for t in tags):
        raise row.error("example_tags", f"must be a list of strings, got {tags!r}"[:300])
    themes = [t.removeprefix("theme:") for t in tags if t.startswith("theme:")]
    if len(themes) > 1:
        raise row.error("example_tags", f"has {len(themes)} theme tags {themes}; at most one")
    return f"healthbench:{themes[0]}" if themes else "healthbench"


def _healthbench_prompt(row: Row, data: dict) -> tuple[dict, str]:
    ident = nonempty(row, "prompt_id", data.get("prompt_id"))
    messages = conversation(row, "prompt", required(row, data, "prompt"))
    items = _points_items(row, "rubrics", required(row, data, "rubrics"))
    task = _healthbench_task(row, data.get("example_tags"))
    return prompt_dict("healthbench", task, f"healthbench-{ident}", messages, items), "prompt_id"


# --- readers ---------------------------------------------------------------------------------


def read_rar(path: str | os.PathLike, n_prompts: int = 0, unknown_ids: UnknownIds = "error") -> ImportedPrompts:
    """The prompts of a Rubrics-as-Rewards file (JSONL, JSON or Parquet; see the module docstring)."""
    return read_conversations(path, n_prompts, unknown_ids, _rar_prompt)


def read_rubrichub(path: str | os.PathLike, n_prompts: int = 0, unknown_ids: UnknownIds = "error") -> ImportedPrompts:
    """The prompts of a RubricHub-style file (JSONL, JSON or Parquet; see the module docstring)."""
    return read_conversations(path, n_prompts, unknown_ids, _rubrichub_prompt)


def read_healthbench(path: str | os.PathLike, n_prompts: int = 0, unknown_ids: UnknownIds = "error") -> ImportedPrompts:
    """The prompts of a HealthBench (simple-evals) file such as healthbench_eval.jsonl."""
    return read_conversations(path, n_prompts, unknown_ids, _healthbench_prompt)
