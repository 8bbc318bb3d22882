"""Part names: what stages write is what the readers of rounds find, and what a rescore writes is not."""

from hypothesis import given
from hypothesis import strategies as st

from rtt.data.partitions import (
    PROMPTS,
    RUBRICS,
    continuation_part,
    llm_calls_part,
    rescore_part,
    round_part,
    stage_part,
    step_part,
)
from rtt.data.store import PART_NAME


def test_names():
    assert (round_part(3), step_part(1, 4), round_part(-1)) == ("round3", "round1_step4", "round-1")
    assert (llm_calls_part("judge", 2), llm_calls_part("eval", -1), llm_calls_part("rubrics", -1)) == (
        "judge_round2",
        "eval_round-1",
        "rubrics",
    )
    assert continuation_part(2) == "continuation2"
    assert rescore_part("llm:gpt-4o/mini", 0) == "rescore_llm-gpt-4o-mini_round0"


@given(st.integers(-1, 10_000), st.integers(0, 10_000))
def test_round_stage_parts_parse_back(round_, step):
    assert stage_part(round_part(round_)) == (round_, None)
    assert stage_part(step_part(round_, step)) == (round_, step)


@given(st.text(min_size=1, max_size=30), st.integers(0, 100))
def test_other_parts_are_not_round_parts_and_every_name_is_storable(label, round_):
    names = [rescore_part(label, round_), llm_calls_part("judge", round_), continuation_part(round_), PROMPTS, RUBRICS]
    assert all(stage_part(n) is None for n in names)
    assert all(PART_NAME.match(n) for n in [*names, round_part(round_), step_part(round_, round_)])
