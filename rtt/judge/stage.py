"""Judge stage: one verdict row per (rollout, rubric item) of the round's offline rollouts.

Rule checkers and/or the LLM judge per `judge.mode` (`rtt.judge.verdicts`); the LLM requests,
answered or cached, are recorded in `llm_calls`.
"""

from __future__ import annotations

from rtt.checkpoints import starting_policy
from rtt.data.items import conversation_text, load_prompts, load_rubrics
from rtt.data.partitions import llm_calls_part, round_part
from rtt.judge.verdicts import Judge, rollout_cases, verdict_summary
from rtt.llm.calls import call_rows
from rtt.models import load_tokenizer
from rtt.stage_context import StageContext, global_step


def run_judge(ctx: StageContext) -> dict:
    cfg, store, run_id, round_ = ctx.cfg, ctx.store, ctx.run_id, ctx.round
    rollouts = store.rows("rollouts", run_id, round_part(round_))
    if not rollouts:
        raise FileNotFoundError(f"judge: no rollouts for run {run_id} round {round_}: run the rollouts stage first")
    rubrics = load_rubrics(store, run_id)
    prompt_text = {p["prompt_id"]: conversation_text(p) for p in load_prompts(store, run_id)}
    tokenizer = load_tokenizer(starting_policy(cfg, store, run_id, round_))
    cases = rollout_cases(rollouts, prompt_text, rubrics, tokenizer)
    per_case, answers = Judge.for_run(cfg).judge(run_id, round_, -1, cases)
    rows = [row for case_rows in per_case for row in case_rows]
    store.write("verdicts", rows, run_id, round_part(round_))
    if answers:
        store.write(
            "llm_calls",
            call_rows(run_id, "judge", round_, -1, cfg.judge.llm.model, answers),
            run_id,
            llm_calls_part("judge", round_),
        )
    summary = verdict_summary(rows, answers)
    ctx.tracker.log_metrics(summary, step=global_step(ctx.cfg, round_, 0))
    return summary
