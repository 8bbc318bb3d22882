"""Part names: where each stage writes its rows in a table, and where the next stage finds them.

A part is one Parquet file, `<data_dir>/tables/<table>/<run_id>/<part>.parquet`, replaced whole by
each write (`rtt.data.store`). Stages find each other's rows only by these names, so they are made
here and nowhere else:

    prompts                      prompts                       the rubrics stage
    rubrics                      rubrics, llm_calls            the rubrics stage
    round<r>                     rollouts, verdicts            the rollouts and judge stages of round r
                                 disc_metrics                  the discriminator stage
                                 evals, generations            the eval stage (r = -1: the starting policy)
    round<r>_step<s>             rollouts, verdicts, token_scores, train_steps, llm_calls
                                                               GRPO step s of round r
    <stage>_round<r>             llm_calls                     the judge and eval stages
    experiment                   experiments                   `rtt compare`: the run's arm, seed and status
    continuation<c>              campaigns                     continuation c of a campaign
    rescore_<label>_round<r>     verdicts, token_scores, llm_calls   `rtt rescore`, beside the originals
"""

from __future__ import annotations

import re

PROMPTS = "prompts"
RUBRICS = "rubrics"
EXPERIMENT = "experiment"
STAGE_PART = re.compile(r"^round(-?\d+)(?:_step(\d+))?$")
"""The parts the round stages write: round<r>, round<r>_step<s>."""


def round_part(round_: int) -> str:
    """Round r's rows of an offline stage (rollouts, judge, discriminator, eval)."""
    return f"round{round_}"


def step_part(round_: int, step: int) -> str:
    """GRPO step s of round r."""
    return f"round{round_}_step{step}"


def llm_calls_part(stage: str, round_: int) -> str:
    """The `llm_calls` part of a stage that is not a GRPO step (those use `step_part`)."""
    return RUBRICS if stage == "rubrics" else f"{stage}_round{round_}"


def continuation_part(continuation: int) -> str:
    return f"continuation{continuation}"


def rescore_part(label: str, round_: int) -> str:
    """`rtt rescore`'s rows for round r; characters a part name cannot hold (`:`, `/`) become `-`."""
    return f"rescore_{re.sub(r'[^A-Za-z0-9_.=-]', '-', label)}_round{round_}"


def stage_part(part: str) -> tuple[int, int | None] | None:
    """(round, step or None) of a part a round stage wrote; None for any other part."""
    match = STAGE_PART.match(part)
    return (int(match[1]), None if match[2] is None else int(match[2])) if match else None
