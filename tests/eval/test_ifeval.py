"""The IFEval path grades exactly as the official checker called directly."""

import json
import random

import pytest

from rtt.eval.ifeval import grade, ifeval_metrics, load_ifeval, official_evaluation


def responses_for(example: dict) -> list[str]:
    """Known responses that pass and fail different instructions: the prompt itself, shouted,
    quoted, as JSON, with a bullet list, a title, a postscript and a first line to drop (loose)."""
    p = example["prompt"]
    return [
        p,
        p.upper(),
        f'"{p.lower()}"',
        json.dumps({"answer": p}),
        f"Sure, here it is:\n<<A Title>>\n* one\n* two\n*{p}*\nP.S. that is all.\nSECTION 1\nThanks",
    ]


@pytest.fixture(scope="module")
def examples():
    return load_ifeval()


def test_the_541_official_prompts(examples):
    assert len(examples) == 541 and len({e["key"] for e in examples}) == 541
    assert len({i for e in examples for i in e["instruction_id_list"]}) == 25
    assert load_ifeval(7) == examples[:7]


def test_grades_equal_the_official_checker_called_directly(examples):
    chosen = examples[:: 541 // 90][:90]  # 90 prompts spread over the file
    pairs = [(e, r) for e in chosen for r in responses_for(e)]
    ours = grade([e for e, _ in pairs], [r for _, r in pairs])
    evaluation = official_evaluation()
    for (example, response), g in zip(pairs, ours):
        inp = evaluation.InputExample(
            example["key"], example["instruction_id_list"], example["prompt"], example["kwargs"]
        )
        random.seed(0)
        strict = evaluation.test_instruction_following_strict(inp, {example["prompt"]: response})
        random.seed(0)
        loose = evaluation.test_instruction_following_loose(inp, {example["prompt"]: response})
        assert (g["key"], g["ids"]) == (example["key"], example["instruction_id_list"])
        assert g["strict"] == strict.follow_instruction_list and g["loose"] == loose.follow_instruction_list
    followed = [ok for g in ours for ok in g["strict"]]
    assert 0 < sum(followed) < len(followed)  # the responses pass some instructions and fail others
    loose_only = sum(lo and not st for g in ours for st, lo in zip(g["strict"], g["loose"]))
    assert loose_only > 0  # the dropped first line / stripped '*' matter somewhere


def test_metrics_hand_worked():
    graded = [
        {"key": 1, "ids": ["a", "b"], "strict": [True, False], "loose": [True, True]},
        {"key": 2, "ids": ["a"], "strict": [True], "loose": [True]},
        {"key": 3, "ids": ["b", "c"], "strict": [False, False], "loose": [True, False]},
    ]
    m = ifeval_metrics(graded)
    # prompts: strict only key 2 follows all -> 1/3; loose keys 1, 2 -> 2/3
    # instructions: strict 2 of 5; loose 4 of 5; per id (strict): a 2/2, b 0/2, c 0/1
    assert m["prompt_strict"] == (pytest.approx(1 / 3), 3) and m["prompt_loose"] == (pytest.approx(2 / 3), 3)
    assert m["instruction_strict"] == (pytest.approx(2 / 5), 5) and m["instruction_loose"] == (pytest.approx(4 / 5), 5)
    assert (m["instruction_strict/a"], m["instruction_strict/b"], m["instruction_strict/c"]) == (
        (1.0, 2),
        (0.0, 2),
        (0.0, 1),
    )
    assert ifeval_metrics([])["prompt_strict"] == (0.0, 0)


def test_eval_stage_records_ifeval_metrics_and_generations(tmp_path):
    from rtt.data.catalog import query
    from rtt.data.store import Store
    from rtt.runs import run_stage

    args = [
        f"data_dir={tmp_path / 'data'}",
        f"tracking_uri={tmp_path / 'mlflow'}",
        "eval.ifeval=true",
        "eval.ifeval_max_prompts=6",
        "eval.ifeval_max_new_tokens=8",
    ]
    run_stage("rubrics", "smoke", args, "if-1")
    summary = run_stage("eval", "smoke", args, "if-1", -1)
    assert {"ifeval_prompt_strict", "ifeval_instruction_loose"} <= set(summary)
    assert 0 < summary["ifeval_seconds"] < summary["seconds"] + 0.05  # ms resolution; "seconds" is rounded to 0.1
    store = Store(tmp_path / "data")
    rows = query(store, "SELECT metric, value, n FROM evals WHERE benchmark = 'ifeval'").to_pylist()
    metrics = {r["metric"]: (r["value"], r["n"]) for r in rows}
    assert metrics["prompt_strict"][1] == 6 and metrics["prompt_strict"][0] == summary["ifeval_prompt_strict"]
    generations = query(
        store,
        "SELECT prompt_key, response, items_total FROM generations WHERE benchmark = 'ifeval' ORDER BY prompt_key",
    ).to_pylist()
    assert [g["prompt_key"] for g in generations] == sorted(e["key"] for e in load_ifeval(6))
    # anyone can re-grade what is stored: the same official grades come back
    by_key = {g["prompt_key"]: g["response"] for g in generations}
    regraded = grade(load_ifeval(6), [by_key[e["key"]] for e in load_ifeval(6)])
    assert ifeval_metrics(regraded)["prompt_strict"][0] == metrics["prompt_strict"][0]
    held_out = query(
        store, "SELECT count(*) AS n FROM generations WHERE benchmark = 'heldout_rubrics' AND prompt_key IS NULL"
    )
    assert held_out.to_pylist()[0]["n"] == summary["prompts"]


def test_a_blank_response_follows_no_instruction_strict_or_loose(examples):
    """The official harness fails every instruction of an empty or whitespace-only response (its
    `response.strip() and check_following(...)`), the negative ones ("no commas", "fewer than N
    words") too; rtt's judge applies the same rule (tests/judge/test_rule.py)."""
    negative = {
        "punctuation:no_comma",
        "keywords:forbidden_words",
        "length_constraints:number_words",
        "keywords:frequency",
        "length_constraints:number_sentences",
        "change_case:capital_word_frequency",
    }
    chosen = [e for e in examples if negative & set(e["instruction_id_list"])][:40]
    blanks = ["", " ", "  \n", "\n\n\n", "\xa0"]
    pairs = [(e, r) for e in chosen for r in blanks]
    graded = grade([e for e, _ in pairs], [r for _, r in pairs])
    assert len(graded) == 200 and sum(len(g["strict"]) for g in graded) > 200
    assert not any(ok for g in graded for ok in g["strict"] + g["loose"])
