"""An experiment's results, read back from the lake: the report JSON and the table behind the page.

JSON shape (`ExperimentResults.to_json`), for other tools:

    {"name", "experiment_id", "policy", "budget": {...}, "target_reward", "smooth_steps",
     "arms": {"<arm>": {"settings", "seeds", "run_ids",
                        "heldout_item_accuracy": {"base": x, "final": [per seed]},
                        "heldout_prompt_accuracy": {"base": x, "final": [per seed]},
                        "train_reward": [[AON reward per step] per seed],
                        "train_reward_csr": [[CSR reward per step] per seed],
                        "steps_to_target": [per seed, null if never], "wall_s": [per seed],
                        "discriminator_f1_on_policy": [[token F1 per step] per seed],
                        "credit_agreement": [[cosine of A_tok with gold's per step] per seed]}},
     "summary": {"<arm>": {...means, 95% intervals over seeds, bootstrap gains over prompts}}}

"final" is the last round's evaluation. The training reward of every arm is reported as AON and
CSR whatever reward it trained on, so the curves compare. Steps count GRPO steps over all rounds.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import numpy as np
import torch

from rtt.compare.experiment import Experiment
from rtt.data.catalog import query, quoted
from rtt.data.store import Store
from rtt.eval.stage import BENCHMARK
from rtt.grpo.advantages import token_advantages
from rtt.grpo.relevance import gate
from rtt.report import saved_settings
from rtt.stats import bootstrap_gain, mean_interval, moving_average, steps_to_target

ORIGINALS = "s.source NOT LIKE 'rescore:%' AND v.judge NOT LIKE 'rescore:%'"
"""The run's own token scores and verdicts, not those `rtt rescore` wrote beside them (rtt/rescore.py)."""


@dataclass
class ArmResult:
    arm: str
    settings: dict
    seeds: list[int]
    run_ids: list[str]
    base: dict[str, float]
    """metric -> the starting policy's value (the same for every run: greedy, same prompts)."""
    final: dict[str, list[float]]
    """metric -> the last round's value, per seed."""
    reward_aon: list[list[float]]
    reward_csr: list[list[float]]
    wall_s: list[float]
    passed: dict[str, np.ndarray]
    """per held-out prompt (sorted ids): items passed by the base ("base") and by the final
    policies averaged over seeds ("final")."""
    totals: np.ndarray
    disc_f1: list[list[float | None]]
    """Per seed, per GRPO step: the discriminator's token F1 on the policy's own rollouts (empty
    for arms that do not use it)."""
    per_kind: dict[str, dict]
    """checker -> {"base": item accuracy of the base, "final": [per seed]} on the held-out items."""
    heldout_f1: float | None
    """The discriminator's token F1 on its own held-out split, mean over seeds (None: no discriminator)."""
    credit: list[list[float | None]]
    """Per seed, per GRPO step: `credit_agreement` (empty for arms without a token advantage)."""


def eval_values(store: Store, run_ids: list[str]) -> dict[tuple[str, int, str], float]:
    rows = query(
        store,
        f"SELECT run_id, round, metric, value FROM evals WHERE run_id IN ({quoted(run_ids)}) "
        f"AND benchmark = '{BENCHMARK}' AND (metric IN ('item_accuracy', 'prompt_accuracy') "
        "OR metric LIKE 'item_accuracy/%')",
    ).to_pylist()
    return {(r["run_id"], r["round"], r["metric"]): r["value"] for r in rows}


def reward_curves(store: Store, run_ids: list[str]) -> dict[str, dict[str, list[float]]]:
    rows = query(
        store,
        f"SELECT run_id, reward_aon, reward_csr FROM train_steps WHERE run_id IN ({quoted(run_ids)}) "
        "ORDER BY run_id, round, step",
    ).to_pylist()
    curves = {r: {"aon": [], "csr": []} for r in run_ids}
    for row in rows:
        curves[row["run_id"]]["aon"].append(row["reward_aon"])
        curves[row["run_id"]]["csr"].append(row["reward_csr"])
    return curves


def prompt_passes(store: Store, run_ids: list[str]) -> dict[tuple[str, int], dict[str, tuple[int, int]]]:
    """(run id, round) -> held-out prompt id -> (items passed, items)."""
    rows = query(
        store,
        f"SELECT run_id, round, prompt_id, items_passed, items_total FROM generations "
        f"WHERE run_id IN ({quoted(run_ids)}) AND benchmark = '{BENCHMARK}'",
    ).to_pylist()
    out: dict = {}
    for row in rows:
        out.setdefault((row["run_id"], row["round"]), {})[row["prompt_id"]] = (row["items_passed"], row["items_total"])
    return out


def on_policy_f1(store: Store, run_ids: list[str]) -> dict[str, list[float | None]]:
    """Per run, per GRPO step: token F1 (at 0.5) of the discriminator's relevance against the rule
    judge's evidence labels on that step's rollouts, sampled by the policy as it trains, which the
    discriminator never saw. Runs that did not score with the discriminator are absent."""
    rows = query(
        store,
        f"""
        WITH tokens AS (
            SELECT s.run_id, s.round, s.step, unnest(s.relevance) >= 0.5 AS predicted,
                   unnest(v.token_labels) = 1 AS gold
            FROM token_scores s JOIN verdicts v USING (run_id, rollout_id, item_id)
            WHERE s.run_id IN ({quoted(run_ids)}) AND s.source = 'discriminator' AND v.judge = 'rule'
                  AND v.verdict != 0)
        SELECT run_id, round, step, count_if(predicted AND gold)::BIGINT AS tp,
               count_if(predicted AND NOT gold)::BIGINT AS fp, count_if(gold AND NOT predicted)::BIGINT AS fn
        FROM tokens GROUP BY ALL ORDER BY run_id, round, step""",
    ).to_pylist()
    out: dict[str, list[float | None]] = {}
    for r in rows:
        denominator = 2 * r["tp"] + r["fp"] + r["fn"]
        out.setdefault(r["run_id"], []).append(2 * r["tp"] / denominator if denominator else None)
    return out


def credit_agreement(store: Store, run_ids: list[str]) -> dict[str, list[float | None]]:
    """Per run, per GRPO step: the cosine between the token advantage A_tok the run trained on and
    the one exact relevance (the rule judge's evidence labels, as `grpo.relevance=gold`) gives the
    same rollouts and verdicts, over the step's tokens. 1: credit lands where gold puts it; 0: unrelated,
    or no token advantage at all. None: gold gives none either. Runs without token scores are absent."""
    rows = query(
        store,
        f"""
        SELECT s.run_id, s.round, s.step, r.prompt_id, r.sample_index, s.item_id, v.verdict, s.relevance, v.token_labels
        FROM token_scores s JOIN verdicts v USING (run_id, rollout_id, item_id)
        JOIN rollouts r USING (run_id, rollout_id)
        WHERE s.run_id IN ({quoted(run_ids)}) AND {ORIGINALS}
        ORDER BY s.run_id, s.round, s.step, r.prompt_id, r.sample_index, s.item_id""",
    ).to_pylist()
    steps: dict[tuple, dict[tuple, list[dict]]] = {}
    for row in rows:  # (run, round, step) -> (prompt, sample) -> its item rows, in the order of a GRPO batch
        steps.setdefault((row["run_id"], row["round"], row["step"]), {}).setdefault(
            (row["prompt_id"], row["sample_index"]), []
        ).append(row)
    settings = {run_id: saved_settings(store, run_id) for run_id, _, _ in steps}
    out: dict[str, list[float | None]] = {}
    for (run_id, _, _), responses in steps.items():
        grpo = settings[run_id]
        out.setdefault(run_id, []).append(
            step_agreement(
                list(responses.values()),
                grpo["grpo.group_size"],
                grpo["grpo.token_norm"],
                grpo.get("grpo.relevance_threshold", 0.0),
            )
        )
    return out


def step_agreement(responses: list[list[dict]], group_size: int, norm: str, threshold: float) -> float | None:
    """`credit_agreement` of one GRPO step; `responses` holds each response's item rows, groups consecutive."""
    n, k, t = len(responses), max(map(len, responses)), max(len(r["relevance"]) for rows in responses for r in rows)
    verdicts, scores, gold = torch.zeros(n, k), torch.zeros(n, k, t), torch.zeros(n, k, t)  # [N, K], [N, K, T] x2
    mask = torch.zeros(n, t, dtype=torch.bool)  # [N, T]
    for i, rows in enumerate(responses):
        mask[i, : len(rows[0]["relevance"])] = True
        for j, row in enumerate(rows):
            verdicts[i, j] = row["verdict"]
            scores[i, j, : len(row["relevance"])] = torch.tensor(row["relevance"])
            gold[i, j, : len(row["token_labels"])] = torch.tensor(row["token_labels"], dtype=torch.float32)
    used = token_advantages(verdicts, gate(scores, threshold), mask, group_size, norm).flatten()  # [N * T]
    exact = token_advantages(verdicts, gold, mask, group_size, norm).flatten()  # [N * T]
    if exact.norm() == 0:
        return None
    return float(used @ exact / (used.norm() * exact.norm())) if used.norm() > 0 else 0.0


def heldout_f1(store: Store, run_ids: list[str]) -> dict[str, float]:
    """Per run: the discriminator's token F1 on its own held-out split (last evaluation, round 0)."""
    rows = query(
        store,
        f"SELECT run_id, arg_max(f1, opt_step) AS f1 FROM disc_metrics WHERE run_id IN ({quoted(run_ids)}) "
        "AND split = 'heldout' AND kind = 'all' AND round = 0 GROUP BY run_id",
    ).to_pylist()
    return {r["run_id"]: r["f1"] for r in rows}


def run_walls(store: Store, experiment_id: str) -> dict[str, float]:
    """Per run id: its wall time as the `experiments` table recorded it when the run finished."""
    rows = query(
        store,
        f"SELECT run_id, wall_s FROM experiments WHERE experiment_id = {quoted([experiment_id])} "
        "AND status = 'finished'",
    ).to_pylist()
    return {r["run_id"]: r["wall_s"] for r in rows}


def collect(store: Store, experiment: Experiment) -> dict[str, ArmResult]:
    """Every arm's results; ValueError naming a run with no final evaluation."""
    run_ids = [r.run_id for r in experiment.runs]
    evals, curves, passes = eval_values(store, run_ids), reward_curves(store, run_ids), prompt_passes(store, run_ids)
    f1, held, walls = (
        on_policy_f1(store, run_ids),
        heldout_f1(store, run_ids),
        run_walls(store, experiment.experiment_id),
    )
    credit = credit_agreement(store, run_ids)
    last = experiment.cfg.rounds - 1
    out = {}
    for arm, settings in experiment.arms.items():
        runs = [r for r in experiment.runs if r.arm == arm]
        ids = [r.run_id for r in runs]
        missing = [r for r in ids if (r, last, "item_accuracy") not in evals or (r, -1, "item_accuracy") not in evals]
        if missing:
            raise ValueError(
                f"run(s) {missing} of arm {arm!r} have no base or final held-out evaluation in {store.root}"
            )
        base_passes = passes[(ids[0], -1)]
        prompts = sorted(base_passes)
        finals = [passes[(r, last)] for r in ids]
        kinds = sorted({m for (r, _, m) in evals if r == ids[0] and m.startswith("item_accuracy/")})
        out[arm] = ArmResult(
            arm,
            settings,
            [r.seed for r in runs],
            ids,
            base={m: evals[(ids[0], -1, m)] for m in ("item_accuracy", "prompt_accuracy")},
            final={m: [evals[(r, last, m)] for r in ids] for m in ("item_accuracy", "prompt_accuracy")},
            reward_aon=[curves[r]["aon"] for r in ids],
            reward_csr=[curves[r]["csr"] for r in ids],
            wall_s=[walls.get(r) for r in ids],
            passed={
                "base": np.array([base_passes[p][0] for p in prompts], dtype=float),
                "final": np.array([np.mean([f[p][0] for f in finals]) for p in prompts]),
            },
            totals=np.array([base_passes[p][1] for p in prompts], dtype=float),
            disc_f1=[f1[r] for r in ids if r in f1],
            per_kind={
                k.split("/", 1)[1]: {"base": evals[(ids[0], -1, k)], "final": [evals.get((r, last, k)) for r in ids]}
                for k in kinds
                if (ids[0], -1, k) in evals
            },
            heldout_f1=float(np.mean([held[r] for r in ids if r in held])) if any(r in held for r in ids) else None,
            credit=[credit[r] for r in ids if r in credit],
        )
    return out


def target_reward(experiment: Experiment, results: dict[str, ArmResult]) -> float:
    """The configured target, else GRPO-AON's final smoothed AON reward (mean over seeds), else the best arm's."""
    if experiment.cfg.compare.target_reward is not None:
        return experiment.cfg.compare.target_reward
    window = experiment.cfg.compare.smooth_steps

    def final(arm: ArmResult) -> float:
        return float(np.mean([moving_average(c, window)[-1] for c in arm.reward_aon if c]))

    if "grpo-aon" in results:
        return final(results["grpo-aon"])
    return max(final(a) for a in results.values())


def curve_ends(curves: list[list[float | None]], span: int = 3) -> dict[str, float | None]:
    """Means over the first and the last `span` steps of every seed's curve, and over every step."""

    def mean(values):
        values = [v for v in values if v is not None]
        return float(np.mean(values)) if values else None

    return {
        "first": mean([v for c in curves for v in c[:span]]),
        "last": mean([v for c in curves for v in c[-span:]]),
        "all": mean([v for c in curves for v in c]),
    }


def summarize(experiment: Experiment, results: dict[str, ArmResult], target: float) -> dict[str, dict]:
    """Per arm: means and 95% intervals over seeds, paired bootstrap gains over prompts."""
    cfg = experiment.cfg.compare
    reference = results.get("grpo-aon")
    out = {}
    for arm, r in results.items():
        steps = [steps_to_target(c, target, cfg.smooth_steps) for c in r.reward_aon]
        row = {"steps_to_target": steps, "steps_total": len(r.reward_aon[0]) if r.reward_aon else 0}
        for metric in ("item_accuracy", "prompt_accuracy"):
            mean, low, high = mean_interval(r.final[metric])
            row[metric] = {"base": r.base[metric], "mean": mean, "low": low, "high": high}
        gain = bootstrap_gain(r.passed["final"], r.passed["base"], r.totals, cfg.bootstrap, seed=experiment.cfg.seed)
        row["item_gain_vs_base"] = dict(zip(("gain", "low", "high"), gain))
        if reference is not None and arm != "grpo-aon":
            vs = bootstrap_gain(
                r.passed["final"], reference.passed["final"], r.totals, cfg.bootstrap, seed=experiment.cfg.seed
            )
            row["item_gain_vs_grpo_aon"] = dict(zip(("gain", "low", "high"), vs))
        final_aon = [moving_average(c, cfg.smooth_steps)[-1] for c in r.reward_aon if c]
        row["final_train_aon"] = mean_interval(final_aon)[0] if final_aon else None
        known = [w for w in r.wall_s if w is not None]
        row["wall_s"] = mean_interval(known)[0] if known else None
        if r.disc_f1:
            ends = curve_ends(r.disc_f1)
            row["discriminator_f1"] = {
                "heldout": r.heldout_f1,
                "on_policy_first": ends["first"],
                "on_policy_last": ends["last"],
            }
        if r.credit:
            row["credit_agreement"] = curve_ends(r.credit)
        out[arm] = row
    return out


def to_json(experiment: Experiment, results: dict[str, ArmResult], summary: dict[str, dict], target: float) -> dict:
    cfg = experiment.cfg
    return {
        "name": cfg.name,
        "experiment_id": experiment.experiment_id,
        "preset": experiment.preset,
        "overrides": experiment.overrides,
        "policy": cfg.model.policy,
        "budget": {
            "rounds": cfg.rounds,
            "grpo_steps_per_round": cfg.grpo.steps,
            "prompts_per_step": cfg.grpo.prompts_per_step,
            "group_size": cfg.grpo.group_size,
            "max_new_tokens": cfg.grpo.max_new_tokens,
            "lr": cfg.grpo.lr,
            "heldout_prompts": int(len(next(iter(results.values())).totals)) if results else 0,
            "heldout_items": int(next(iter(results.values())).totals.sum()) if results else 0,
        },
        "target_reward": target,
        "smooth_steps": cfg.compare.smooth_steps,
        "arms": {
            arm: {
                "settings": r.settings,
                "seeds": r.seeds,
                "run_ids": r.run_ids,
                "heldout_item_accuracy": {"base": r.base["item_accuracy"], "final": r.final["item_accuracy"]},
                "heldout_prompt_accuracy": {"base": r.base["prompt_accuracy"], "final": r.final["prompt_accuracy"]},
                "train_reward": r.reward_aon,
                "train_reward_csr": r.reward_csr,
                "steps_to_target": summary[arm]["steps_to_target"],
                "wall_s": r.wall_s,
                "discriminator_f1_on_policy": r.disc_f1,
                "credit_agreement": r.credit,
                "per_kind": r.per_kind,
            }
            for arm, r in results.items()
        },
        "summary": summary,
    }


def dumps(report: dict) -> str:
    return json.dumps(report, indent=2, allow_nan=False, default=float) + "\n"
