"""The contracts between stages: one pyarrow schema per table.

One row per sequence, never per token: per-token values are list columns aligned with
`token_ids` (index t of `logprobs`, `relevance`, `token_labels`, `adv_tokens` is response token t,
EOS included, prompt excluded). Every row carries `run_id`; `round` and `step` place it in a run
(`step` is -1 for rows not made inside a GRPO step). Bump SCHEMA_VERSION on any change; it is
stored in each Parquet file's metadata.
"""

from __future__ import annotations

import pyarrow as pa

SCHEMA_VERSION = 2

SPAN = pa.struct([("start", pa.int32()), ("end", pa.int32())])

# One column a line, its comment aligned beside it: kept out of the formatter.
# fmt: off
SCHEMAS: dict[str, pa.Schema] = {
    # A prompt and where it is used. `prompt` is the user message; the chat template is applied at sampling.
    "prompts": pa.schema([
        ("run_id", pa.string()),
        ("prompt_id", pa.string()),
        ("split", pa.string()),          # train | eval
        ("source", pa.string()),         # builtin | <dataset name>
        ("task", pa.string()),
        ("prompt", pa.string()),         # the (last) user message
        ("messages", pa.string()),       # JSON [{role, content}] ending in `prompt`; null: `prompt` only
    ]),
    # One row per rubric item.
    "rubrics": pa.schema([
        ("run_id", pa.string()),
        ("item_id", pa.string()),
        ("prompt_id", pa.string()),
        ("item_index", pa.int32()),
        ("version", pa.int32()),         # rubric version (refinement rounds write new versions)
        ("text", pa.string()),           # the natural-language criterion
        ("weight", pa.float32()),        # > 0: how much the item counts in the weighted reward
        ("kind", pa.string()),           # rule | llm
        ("checker", pa.string()),        # rule checker id, null for LLM-graded items
        ("checker_kwargs", pa.string()),  # JSON object
        ("pitfall", pa.bool_()),         # the criterion names a fault: meeting it is a violation (verdict -1)
        ("category", pa.string()),       # the source's category (RaR: essential|important|optional|pitfall), or null
        ("points", pa.float32()),        # the source's own points as given (negative for faults), or null
        ("author", pa.string()),         # builtin | import:<format> | llm:<model>
        ("parent_version", pa.int32()),  # the version this one rewrote (tail refinement); null for version 0
        ("trigger", pa.string()),        # JSON: what made this version (the two candidates it had to separate), or null
    ]),
    # One row per sampled response; reward and advantages are filled for GRPO-step rollouts.
    "rollouts": pa.schema([
        ("run_id", pa.string()),
        ("rollout_id", pa.string()),
        ("prompt_id", pa.string()),
        ("round", pa.int32()),
        ("step", pa.int32()),
        ("sample_index", pa.int32()),
        ("policy", pa.string()),         # checkpoint that sampled it
        ("prompt_token_ids", pa.list_(pa.int32())),
        ("token_ids", pa.list_(pa.int32())),
        ("logprobs", pa.list_(pa.float32())),
        ("text", pa.string()),
        ("num_tokens", pa.int32()),
        ("finished", pa.bool_()),        # ended with EOS (False: cut at max_new_tokens)
        ("reward", pa.float32()),
        ("adv_response", pa.float32()),
        ("adv_tokens", pa.list_(pa.float32())),
    ]),
    # One row per (rollout, rubric item).
    "verdicts": pa.schema([
        ("run_id", pa.string()),
        ("verdict_id", pa.string()),
        ("rollout_id", pa.string()),
        ("item_id", pa.string()),
        ("prompt_id", pa.string()),
        ("round", pa.int32()),
        ("step", pa.int32()),
        ("verdict", pa.int8()),          # +1 satisfied, -1 violated, 0 unknown
        ("judge", pa.string()),          # rule | llm:<model>; rescore:<label> for `rtt rescore`'s rows
        ("reason", pa.string()),         # why unknown, or the judge's raw answer
        ("spans", pa.list_(SPAN)),       # evidence: character offsets into the rollout text
        ("token_labels", pa.list_(pa.int8())),  # 1 where a response token overlaps an evidence span
        ("quotes_dropped", pa.int32()),  # LLM judge quotes not found in the response (left out of spans)
    ]),
    # Token relevance per (rollout, item), as used by the GRPO step.
    "token_scores": pa.schema([
        ("run_id", pa.string()),
        ("rollout_id", pa.string()),
        ("item_id", pa.string()),
        ("round", pa.int32()),
        ("step", pa.int32()),
        ("source", pa.string()),         # discriminator|uniform|random|gold|lexical; rescore:<label> (rtt rescore)
        ("relevance", pa.list_(pa.float32())),
    ]),
    # One row per GRPO step.
    "train_steps": pa.schema([
        ("run_id", pa.string()),
        ("round", pa.int32()),
        ("step", pa.int32()),
        ("global_step", pa.int32()),     # round * grpo.steps + step: counts on across rounds and continuations
        ("reward_mean", pa.float32()),   # the configured reward mode
        ("reward_std", pa.float32()),
        ("reward_aon", pa.float32()),    # mean all-or-nothing reward, whatever the mode
        ("reward_csr", pa.float32()),    # mean satisfaction-rate reward, whatever the mode
        ("item_pass_rate", pa.float32()),
        ("zero_var_groups", pa.float32()),   # fraction of groups whose rewards are all equal
        ("adv_response_abs", pa.float32()),
        ("adv_token_abs", pa.float32()),
        ("loss", pa.float32()),
        ("clip_frac", pa.float32()),
        ("approx_kl", pa.float32()),
        ("kl", pa.float32()),
        ("entropy", pa.float32()),
        ("grad_norm", pa.float32()),
        ("lr", pa.float32()),
        ("logprob_gap_abs", pa.float32()),   # sampler vs trainer logprobs of the sampled tokens (rtt/grpo/mismatch.py)
        ("logprob_gap_max", pa.float32()),
        ("logprob_gap_kl", pa.float32()),    # k3 estimate of KL(sampler || trainer)
        ("response_tokens", pa.int32()),
        ("tokens_per_s", pa.float32()),
        ("t_sync", pa.float32()),        # the policy's weights into the rollout engine (0 for hf)
        ("t_sample", pa.float32()),        # generation, the sync excluded
        ("t_judge", pa.float32()),
        ("t_score", pa.float32()),
        ("t_advantage", pa.float32()),
        ("t_update", pa.float32()),
        ("t_total", pa.float32()),
    ]),
    # Discriminator quality per evaluation, overall and per item kind.
    "disc_metrics": pa.schema([
        ("run_id", pa.string()),
        ("round", pa.int32()),
        ("split", pa.string()),          # train | heldout
        ("epoch", pa.float32()),
        ("opt_step", pa.int32()),
        ("kind", pa.string()),           # all | <checker id>
        ("loss", pa.float32()),
        ("precision", pa.float32()),
        ("recall", pa.float32()),
        ("f1", pa.float32()),
        ("auroc", pa.float32()),
        ("ece", pa.float32()),
        ("n_tokens", pa.int64()),
    ]),
    # One row per (checkpoint, benchmark, metric).
    "evals": pa.schema([
        ("run_id", pa.string()),
        ("round", pa.int32()),           # -1 = the starting policy
        ("checkpoint", pa.string()),
        ("benchmark", pa.string()),
        ("metric", pa.string()),
        ("value", pa.float64()),
        ("n", pa.int32()),
    ]),
    # One row per LLM request a stage made (or answered from the cache): cost and latency.
    "llm_calls": pa.schema([
        ("run_id", pa.string()),
        ("stage", pa.string()),          # judge | grpo | rubrics | eval | rescore
        ("round", pa.int32()),
        ("step", pa.int32()),
        ("request_key", pa.string()),    # the cache key (sha256 of model, messages, settings)
        ("model", pa.string()),
        ("cached", pa.bool_()),
        ("attempts", pa.int32()),        # HTTP attempts (0 when cached)
        ("latency_s", pa.float32()),     # of the successful attempt
        ("prompt_tokens", pa.int32()),
        ("completion_tokens", pa.int32()),
        ("error", pa.string()),          # why there is no answer, null when there is one
    ]),
    # Every generation made for an evaluation, so anyone can read or re-grade it.
    "generations": pa.schema([
        ("run_id", pa.string()),
        ("round", pa.int32()),
        ("checkpoint", pa.string()),
        ("benchmark", pa.string()),
        ("prompt_id", pa.string()),
        ("prompt_key", pa.int64()),      # IFEval's `key` (ifeval rows); null for held-out rubric prompts
        ("response", pa.string()),
        ("num_tokens", pa.int32()),
        ("items_passed", pa.int32()),
        ("items_total", pa.int32()),
    ]),
    # One row per run of a `rtt compare` experiment (rewritten as the run's status changes).
    "experiments": pa.schema([
        ("experiment_id", pa.string()),
        ("name", pa.string()),           # the preset's name
        ("preset", pa.string()),         # the preset name or YAML path the experiment was started with
        ("arm", pa.string()),            # rtt|rtt-gold|rtt-uniform|rtt-random|grpo-aon|grpo-csr|<a config's arm>
        ("seed", pa.int32()),            # the run's `seed` (prompts use the experiment's first seed)
        ("run_id", pa.string()),         # the arm's ordinary pipeline run
        ("settings", pa.string()),       # JSON: the arm's settings (dotted keys), what makes it differ
        ("overrides", pa.string()),      # JSON list: the experiment's own --set overrides, shared by every arm
        ("status", pa.string()),         # running | finished
        ("wall_s", pa.float64()),        # the run's wall time (sum of its stages), null while running
        ("recorded_at", pa.string()),    # ISO 8601 UTC
    ]),
    # One row per continuation of a campaign (`rtt campaign`; rewritten as its status changes).
    # A campaign is one run extended round by round: `run_id` is the campaign's name.
    "campaigns": pa.schema([
        ("campaign", pa.string()),
        ("run_id", pa.string()),
        ("continuation", pa.int32()),    # 0 for `rtt campaign start`, then 1, 2, ...
        ("flow_run_id", pa.string()),    # the Prefect flow run that ran it (null outside Prefect)
        ("first_round", pa.int32()),     # rounds this continuation trains: first_round..last_round
        ("last_round", pa.int32()),
        ("first_step", pa.int32()),      # train_steps.global_step of its first and last GRPO step
        ("last_step", pa.int32()),
        ("start_policy", pa.string()),   # the checkpoint it started from (the previous continuation's last)
        ("start_discriminator", pa.string()),  # the discriminator its first round continues from, or null
        ("final_policy", pa.string()),   # the checkpoint it ended with, null until completed
        ("status", pa.string()),         # running | completed | failed | interrupted | killed
        ("item_accuracy", pa.float64()),  # held-out item accuracy of final_policy (the same prompts every time)
        ("prompt_accuracy", pa.float64()),
        ("eval_n", pa.int32()),          # held-out items behind item_accuracy
        ("prompts_drawn", pa.int64()),   # training prompts drawn by GRPO since the campaign began
        ("pool_size", pa.int32()),       # training prompts in the pool; drawn / pool = passes over it
        ("started_at", pa.string()),     # ISO 8601 UTC
        ("ended_at", pa.string()),
    ]),
}
# fmt: on

TABLES = tuple(SCHEMAS)
