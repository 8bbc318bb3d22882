"""Plain prompts without rubric items (`rtt.importers.plain`)."""

from __future__ import annotations

from rtt.importers.plain import read_prompts


def test_plain_prompts_carry_no_items(write_jsonl, raises_at):
    rows = [
        {"id": "a", "prompt": "Plan a trip."},
        {"messages": [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Bake bread?"}]},
    ]
    path = write_jsonl(rows, "prompts.jsonl")
    first, second = read_prompts(path)
    assert (first["prompt_id"], first["prompt"], first["items"]) == ("prompts-a", "Plan a trip.", [])
    assert (
        second["prompt"] == "Bake bread?"
        and len(second["messages"]) == 2
        and second["prompt_id"].startswith("prompts-")
    )
    assert read_prompts(path)[1]["prompt_id"] == second["prompt_id"]  # stable
    bad = write_jsonl([{"id": "x"}], "bad.jsonl")
    raises_at(lambda: read_prompts(bad), bad, "line 1", "prompt")
