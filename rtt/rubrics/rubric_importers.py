"""Prompts and LLM-graded rubric items from three public rubric formats on disk.

Each reader returns an `ImportedPrompts` (see `rtt.rubrics.importers`), one dict per prompt in
file order:

    {"prompt_id", "prompt", "messages", "task", "source",
     "items": [{"text", "weight", "kind": "llm", "checker": None, "kwargs": {},
                "pitfall", "category", "points"}, ...]}

`messages` is the conversation up to and including the last user turn ({role, content}, roles
system | user | assistant; a plain-string prompt becomes one user message); `prompt` is that last
user message's content. `source` is the format name, and so is `task` unless the row names a theme.

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

Plain prompts ("prompts"): rows with `prompt` (a string or a message list) or `messages`, and an
optional `id` (our prompt_id = "prompts-<id>", else a hash of the conversation). They carry no
rubric: the LLM writer writes one (`rubrics.write`, `rtt.rubrics.writer`).

    {"id": "q17", "prompt": "Plan a three-day trip to Kyoto for a family with small children."}

Files. `.jsonl` (one object per line, blank lines ignored; place "line N", 1-based), `.json` (a
list of objects; "item N", 0-based) and `.parquet` (read with pyarrow; "row N", 0-based). The
whole file is validated before anything is returned, also when `n_prompts` keeps only the first
n. Every problem raises DatasetError naming the file, the place and the field path, e.g.

    rar.jsonl: line 3: rubric[2].description: must start with one of 'Essential Criteria:', ...
    healthbench_eval.jsonl: line 7: rubrics[0].points: is 0: ...

A file with no rows and a repeated prompt id (the same conversation twice, for RaR and RubricHub)
are errors too.
"""

from __future__ import annotations

import json
import math
import os
import re
from collections.abc import Callable, Iterator
from pathlib import Path


from rtt.data.store import stable_id
from rtt.rubrics.importers import DatasetError, ImportedPrompts, _json, _jsonl_rows, _Row, _type, read_parquet

ROLES = ("system", "user", "assistant")
RAR_WEIGHTS = {"essential": 5.0, "important": 3.0, "optional": 1.0, "pitfall": 2.0}
RAR_PREFIX = re.compile(r"\s*(essential|important|optional|pitfall)\s+criteria\s*:\s*", re.IGNORECASE)
RAR_PREFIXES = ", ".join(f"'{name.capitalize()} Criteria:'" for name in RAR_WEIGHTS)

Parse = Callable[[_Row, dict], tuple[dict, str]]


# --- rows of a file --------------------------------------------------------------------------

def _json_rows(path) -> Iterator[tuple[_Row, dict]]:
    """(place, object) per item of a JSON file holding a list of objects."""
    try:
        raw = Path(path).read_bytes()
    except OSError as err:
        raise DatasetError(path, None, None, f"cannot open: {err.strerror or err}") from None
    try:
        data = json.loads(raw.decode("utf-8"))
    except UnicodeDecodeError as err:
        raise DatasetError(path, None, None, f"not UTF-8: {err}") from None
    except json.JSONDecodeError as err:
        raise DatasetError(path, None, None, f"invalid JSON: {err}") from None
    if not isinstance(data, list):
        raise DatasetError(path, None, None, f"must be a JSON list of objects, got {_type(data)}")
    for number, item in enumerate(data):
        row = _Row(path, f"item {number}")
        if not isinstance(item, dict):
            raise row.error(None, f"must be a JSON object, got {_type(item)}")
        yield row, item


def _parquet_rows(path) -> Iterator[tuple[_Row, dict]]:
    table = read_parquet(path)
    for number, data in enumerate(table.to_pylist()):
        yield _Row(path, f"row {number}"), data


def _rows(path) -> Iterator[tuple[_Row, dict]]:
    """(place, object) per row, by the file's extension."""
    suffix = Path(path).suffix.lower()
    readers = {".jsonl": _jsonl_rows, ".json": _json_rows, ".parquet": _parquet_rows}
    if suffix not in readers:
        raise DatasetError(path, None, None, f"unknown file type {suffix or '(none)'!r}: "
                           "expected .jsonl, .json or .parquet")
    return readers[suffix](path)


# --- fields ----------------------------------------------------------------------------------

def _present(row: _Row, data: dict, keys: tuple[str, ...]) -> str:
    """The first of `keys` the row gives (not null), or a 'missing' error naming them."""
    for key in keys:
        if data.get(key) is not None:
            return key
    raise row.error(keys[0], "missing" + (f" (nor {', '.join(keys[1:])})" if len(keys) > 1 else ""))


def _required(row: _Row, data: dict, key: str) -> object:
    if data.get(key) is None:
        raise row.error(key, "missing")
    return data[key]


def _text(row: _Row, field: str, value: object) -> str:
    if value is None:
        raise row.error(field, "missing")
    if not isinstance(value, str) or not value.strip():
        raise row.error(field, f"must be a non-empty string, got {value!r}"[:300])
    return value


def _number(row: _Row, field: str, value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise row.error(field, f"must be a number, got {value!r}"[:300])
    if value == 0:
        raise row.error(field, "is 0: a criterion must count for something (a negative number marks a pitfall)")
    return float(value)


def _message(row: _Row, field: str, message: object) -> dict:
    if not isinstance(message, dict):
        raise row.error(field, f"must be a message {{role, content}}, got {_type(message)}")
    role, content = message.get("role"), message.get("content")
    if role not in ROLES:
        raise row.error(f"{field}.role", f"must be one of {list(ROLES)}, got {role!r}"[:300])
    if not isinstance(content, str):
        raise row.error(f"{field}.content", f"must be a string, got {_type(content)}")
    return {"role": role, "content": content}


def _conversation(row: _Row, field: str, value: object) -> list[dict]:
    """The messages of a prompt: a string (one user turn) or a list ending with a user turn."""
    if isinstance(value, str):
        return [{"role": "user", "content": _text(row, field, value)}]
    if not isinstance(value, list) or not value:
        raise row.error(field, f"must be a non-empty string or a non-empty list of chat messages, "
                        f"got {value!r}"[:300])
    messages = [_message(row, f"{field}[{i}]", m) for i, m in enumerate(value)]
    last = f"{field}[{len(messages) - 1}]"
    if messages[-1]["role"] != "user":
        raise row.error(f"{last}.role", f"the conversation must end with a user turn, got {messages[-1]['role']!r}")
    _text(row, f"{last}.content", messages[-1]["content"])
    return messages


def _criteria(row: _Row, field: str, value: object) -> list:
    """A non-empty list of criteria, given as a list or (Parquet) as a JSON string of one."""
    if isinstance(value, str):
        value = _json(row, field, value)
    if not isinstance(value, list) or not value:
        raise row.error(field, f"must be a non-empty list of criteria, got {value!r}"[:300])
    return value


def _item(text: str, weight: float, pitfall: bool, category: str | None, points: float | None) -> dict:
    return {"text": text, "weight": weight, "kind": "llm", "checker": None, "kwargs": {},
            "pitfall": pitfall, "category": category, "points": points}


def _prompt(source: str, task: str, prompt_id: str, messages: list[dict], items: list[dict]) -> dict:
    return {"prompt_id": prompt_id, "prompt": messages[-1]["content"], "messages": messages,
            "task": task, "source": source, "items": items}


def _hashed_id(source: str, messages: list[dict]) -> str:
    return f"{source}-" + stable_id(source, json.dumps(messages, sort_keys=True, ensure_ascii=False))


# --- points criteria (RubricHub, HealthBench) --------------------------------------------------

def _points_item(row: _Row, field: str, criterion: object) -> dict:
    if not isinstance(criterion, dict):
        raise row.error(field, f"must be an object {{criterion, points}}, got {_type(criterion)}")
    text = _text(row, f"{field}.criterion", criterion.get("criterion"))
    points, weight = criterion.get("points"), criterion.get("weight")
    if points is None and weight is None:
        raise row.error(f"{field}.points", "missing")
    if points is not None and weight is not None and points != weight:
        raise row.error(f"{field}.weight", f"is {weight!r} but points is {points!r}; give one of them")
    key = "points" if points is not None else "weight"
    value = _number(row, f"{field}.{key}", criterion[key])
    return _item(text.strip(), abs(value), value < 0, None, value)


def _points_items(row: _Row, field: str, value: object) -> list[dict]:
    return [_points_item(row, f"{field}[{i}]", c) for i, c in enumerate(_criteria(row, field, value))]


# --- RaR -------------------------------------------------------------------------------------

def _category_name(given: str) -> str:
    """'Essential Criteria:' / 'essential' -> 'essential'."""
    return re.sub(r"\s+criteria$", "", given.strip().rstrip(":").strip(), flags=re.IGNORECASE).lower()


def _rar_category(row: _Row, field: str, description: str, given: object) -> tuple[str, str]:
    """(category, description without its prefix)."""
    match = RAR_PREFIX.match(description)
    prefix = match.group(1).lower() if match else None
    text = description[match.end():].strip() if match else description.strip()
    if given is not None:
        if not isinstance(given, str) or _category_name(given) not in RAR_WEIGHTS:
            raise row.error(f"{field}.category", f"must be one of {list(RAR_WEIGHTS)}, got {given!r}"[:300])
        if prefix is not None and prefix != _category_name(given):
            raise row.error(f"{field}.category", f"{given!r} contradicts the description's prefix "
                            f"{match.group(0).strip()!r}")
        category = _category_name(given)
    elif prefix is not None:
        category = prefix
    else:
        raise row.error(f"{field}.description", f"must start with one of {RAR_PREFIXES} "
                        f"(or the criterion must give category), got {description!r}"[:300])
    if not text:
        raise row.error(f"{field}.description", "empty after its category prefix")
    return category, text


def _words(text: str) -> str:
    return " " + " ".join(re.findall(r"\w+", text.lower())) + " "


def _with_title(row: _Row, field: str, title: object, text: str) -> str:
    """'title: text', unless the title is empty or its words already appear in the text."""
    if title is not None and not isinstance(title, str):
        raise row.error(field, f"must be a string, got {_type(title)}")
    title = (title or "").strip().rstrip(":").strip()
    if not title or _words(title) in _words(text):
        return text
    return f"{title}: {text}"


def _rar_item(row: _Row, field: str, criterion: object) -> dict:
    if not isinstance(criterion, dict):
        raise row.error(field, f"must be an object {{title, description, weight}}, got {_type(criterion)}")
    description = _text(row, f"{field}.description", criterion.get("description"))
    category, text = _rar_category(row, field, description, criterion.get("category"))
    text = _with_title(row, f"{field}.title", criterion.get("title"), text)
    if criterion.get("weight") is None:
        return _item(text, RAR_WEIGHTS[category], category == "pitfall", category, None)
    value = _number(row, f"{field}.weight", criterion["weight"])
    return _item(text, abs(value), category == "pitfall" or value < 0, category, value)


def _rar_prompt(row: _Row, data: dict) -> tuple[dict, str]:
    key = _present(row, data, ("prompt", "question"))
    messages = _conversation(row, key, data[key])
    field = _present(row, data, ("rubric", "rubrics"))
    items = [_rar_item(row, f"{field}[{i}]", c) for i, c in enumerate(_criteria(row, field, data[field]))]
    return _prompt("rar", "rar", _hashed_id("rar", messages), messages, items), key


# --- RubricHub -------------------------------------------------------------------------------

def _rubrichub_criteria(row: _Row, data: dict) -> tuple[str, object]:
    """(field path, criteria value): `rubrics`, `rubric`, or the verl layout's `reward_model.rubrics`."""
    if data.get("rubrics") is None and data.get("rubric") is None and data.get("reward_model") is not None:
        model = data["reward_model"]
        if isinstance(model, str):
            model = _json(row, "reward_model", model)
        if not isinstance(model, dict):
            raise row.error("reward_model", f"must be an object holding rubrics, got {_type(model)}")
        if model.get("rubrics") is None:
            raise row.error("reward_model.rubrics", "missing (and the row has no rubrics nor rubric)")
        return "reward_model.rubrics", model["rubrics"]
    field = _present(row, data, ("rubrics", "rubric"))
    return field, data[field]


def _rubrichub_prompt(row: _Row, data: dict) -> tuple[dict, str]:
    messages = _conversation(row, "prompt", _required(row, data, "prompt"))
    items = _points_items(row, *_rubrichub_criteria(row, data))
    return _prompt("rubrichub", "rubrichub", _hashed_id("rubrichub", messages), messages, items), "prompt"


# --- HealthBench -----------------------------------------------------------------------------

def _healthbench_task(row: _Row, tags: object) -> str:
    if tags is None:
        return "healthbench"
    if not isinstance(tags, list) or not all(isinstance(t, str) for t in tags):
        raise row.error("example_tags", f"must be a list of strings, got {tags!r}"[:300])
    themes = [t.removeprefix("theme:") for t in tags if t.startswith("theme:")]
    if len(themes) > 1:
        raise row.error("example_tags", f"has {len(themes)} theme tags {themes}; at most one")
    return f"healthbench:{themes[0]}" if themes else "healthbench"


def _healthbench_prompt(row: _Row, data: dict) -> tuple[dict, str]:
    ident = _text(row, "prompt_id", data.get("prompt_id"))
    messages = _conversation(row, "prompt", _required(row, data, "prompt"))
    items = _points_items(row, "rubrics", _required(row, data, "rubrics"))
    task = _healthbench_task(row, data.get("example_tags"))
    return _prompt("healthbench", task, f"healthbench-{ident}", messages, items), "prompt_id"


# --- plain prompts (rubrics written by the LLM writer) ---------------------------------------

def _plain_prompt(row: _Row, data: dict) -> tuple[dict, str]:
    key = _present(row, data, ("prompt", "messages"))
    messages = _conversation(row, key, data[key])
    if data.get("id") is not None:
        return _prompt("prompts", "prompts", f"prompts-{_text(row, 'id', data['id'])}", messages, []), "id"
    return _prompt("prompts", "prompts", _hashed_id("prompts", messages), messages, []), key


# --- readers ---------------------------------------------------------------------------------

def _read(path: str | os.PathLike, n_prompts: int, parse: Parse) -> ImportedPrompts:
    """Every row parsed and checked (ids unique, at least one row), then the first n_prompts."""
    if isinstance(n_prompts, bool) or not isinstance(n_prompts, int) or n_prompts < 0:
        raise ValueError(f"n_prompts must be an integer >= 0 (0 = all), got {n_prompts!r}")
    prompts, seen = [], {}
    for row, data in _rows(path):
        prompt, id_field = parse(row, data)
        if prompt["prompt_id"] in seen:
            raise row.error(id_field, f"duplicate prompt {prompt['prompt_id']} (same as {seen[prompt['prompt_id']]})")
        seen[prompt["prompt_id"]] = row.where
        prompts.append(prompt)
    if not prompts:
        raise DatasetError(path, None, None, "no rows")
    return ImportedPrompts(prompts[:n_prompts] if n_prompts else prompts)


def read_rar(path: str | os.PathLike, n_prompts: int = 0) -> ImportedPrompts:
    """The prompts of a Rubrics-as-Rewards file (JSONL, JSON or Parquet; see the module docstring)."""
    return _read(path, n_prompts, _rar_prompt)


def read_rubrichub(path: str | os.PathLike, n_prompts: int = 0) -> ImportedPrompts:
    """The prompts of a RubricHub-style file (JSONL, JSON or Parquet; see the module docstring)."""
    return _read(path, n_prompts, _rubrichub_prompt)


def read_healthbench(path: str | os.PathLike, n_prompts: int = 0) -> ImportedPrompts:
    """The prompts of a HealthBench (simple-evals) file such as healthbench_eval.jsonl."""
    return _read(path, n_prompts, _healthbench_prompt)


def read_prompts(path: str | os.PathLike, n_prompts: int = 0) -> ImportedPrompts:
    """Prompts without rubrics (`prompt`: a string or messages, or `messages`; optional `id`):
    their rubrics are written by the LLM writer (`rubrics.write`)."""
    return _read(path, n_prompts, _plain_prompt)


READERS: dict[str, Callable[..., ImportedPrompts]] = {
    "rar": read_rar, "rubrichub": read_rubrichub, "healthbench": read_healthbench, "prompts": read_prompts,
}
