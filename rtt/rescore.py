"""Re-score a run's stored rollouts without sampling again, and measure how far the new scores agree
with the ones the run recorded (`rtt rescore`).

- `rescore_verdicts`: judge every stored rollout of a round, or of all rounds (the offline rollouts
  stage's, step -1, and every GRPO step's), again with the run's saved config plus overrides
  (`judge.mode`, `judge.llm.*`), as the judge stage does: `rtt.judge.verdicts.Judge` on the tokens
  detokenized by the round's tokenizer, one batch of LLM requests per round. Agreement with the
  original verdicts, per item kind and checker: `verdict_agreement`.
- `rescore_relevance`: score the token relevance of every (GRPO-step rollout, rubric item) with
  another source: a saved discriminator folder, or `gold`, `lexical`, `uniform`, `random` as
  `grpo.relevance` (`rtt.grpo.relevance`), one GRPO step's rollouts per batch, in the order the step
  scored them. Agreement with the stored relevance per item kind and checker: `relevance_agreement`;
  and per step the credit agreement of `rtt.compare.results` with the new relevance in gold's place:
  the cosine between the token advantage the run trained on and the one the new relevance gives the
  same rollouts and verdicts (with `gold`, exactly the credit agreement `rtt compare` reports).

Naming. A rescore has a label: `rule`, `llm:<model>`, `auto:<model>` (the judge mode, and the LLM
when it may be asked), or `discriminator:<name>`, `gold`, `lexical`, `uniform`, `random`, where
<name> is the checkpoint folder's name, prefixed by the run id for a run's own
`runs/<run>/discriminator/round_<r>` (`discriminator:RUN.round_0`). Its rows are:

    verdicts.judge           rescore:<label>     (originals: rule | llm:<model>)
    verdicts.verdict_id      stable_id(rollout_id, item_id, "rescore:<label>")
                             (originals: stable_id(rollout_id, item_id))
    token_scores.source      rescore:<label>     (originals: discriminator | gold | lexical | uniform | random)
    llm_calls.stage          rescore
    part, in each table      rescore_<label>_round<r>, with `-` for what a part name cannot hold (`:`, `/`)
                             (stages write round<r> and round<r>_step<s>)

Every row keeps its rollout's round and step. One label, one judge value: under `auto` the rubric's
`kind` says which judge graded an item (a blank response's items are the rule judge's, in any
mode). Stages read `verdicts` by part name (`round<r>`), so they never see rescored rows; the SQL
readers of the originals (`rtt.compare.results`, `rtt.relevance_view`) leave them out with
`NOT LIKE 'rescore:%'`. A rerun of the same rescore replaces its parts.
"""

from __future__ import annotations

import json
from collections import defaultdict
from pathlib import Path

import numpy as np
import torch

from rtt.checkpoints import starting_policy
from rtt.compare.results import step_agreement
from rtt.config import Config, validate
from rtt.data.items import conversation_text, load_prompts, load_rubrics
from rtt.data.partitions import rescore_part, stage_part, step_part
from rtt.data.store import Store, stable_id
from rtt.discriminator.metrics import token_metrics
from rtt.discriminator.model import discriminator_device, load_discriminator
from rtt.grpo.relevance import dense, gate, relevance
from rtt.judge.verdicts import Judge, rollout_cases, verdict_summary
from rtt.llm.calls import call_rows
from rtt.models import load_tokenizer

PREFIX = "rescore:"
RELEVANCE_SOURCES = ("gold", "lexical", "uniform", "random")
VERDICT_COLUMNS = [
    "kind",
    "checker",
    "pairs",
    "both_known",
    "agreement",
    "unknown_old",
    "unknown_new",
    "pass_to_fail",
    "fail_to_pass",
    "same_labels",
]
RELEVANCE_COLUMNS = ["kind", "checker", "pairs", "tokens", "cosine", "pearson", "agree_0.5", "f1_0.5"]


def load_run_config(store: Store, run_id: str, overrides: list[str] | tuple[str, ...] = ()) -> Config:
    """The run's saved config with dotted overrides on top; `data_dir` is the store's."""
    path = store.run_dir(run_id) / "config.json"
    if not path.exists():
        raise FileNotFoundError(f"no run {run_id!r} in {store.root}: {path} does not exist")
    tree = json.loads(path.read_text())
    tree["data_dir"] = str(store.root)
    return validate(tree, overrides, f"run {run_id} ({path}) with overrides {list(overrides)}")


def judge_label(cfg: Config) -> str:
    """The judge mode, with the LLM's model name when the LLM may be asked."""
    mode, model = cfg.judge.mode, cfg.judge.llm.model
    return f"{mode}:{model}" if mode != "rule" and model else mode


def discriminator_label(path: Path) -> str:
    """`discriminator:<folder name>`, with the run id in front for a run's own discriminator folder."""
    path = path.resolve()
    name = f"{path.parent.parent.name}.{path.name}" if path.parent.name == "discriminator" else path.name
    return f"discriminator:{name}"


def original_rows(store: Store, table: str, run_id: str, rounds: list[int], grpo_only: bool = False) -> list[dict]:
    """The rows stages wrote to `table` for `rounds` (never a rescore's), read part by part."""
    rows = []
    for path in store.files(table, run_id):
        where = stage_part(path.stem)
        if where and where[0] in rounds and (where[1] is not None or not grpo_only):
            rows += store.rows(table, run_id, path.stem)
    return rows


def stored_rounds(store: Store, run_id: str, round_: int | None) -> list[int]:
    """The rounds with stored rollouts (only `round_` when given); FileNotFoundError if none."""
    rounds = sorted({where[0] for p in store.files("rollouts", run_id) if (where := stage_part(p.stem))})
    if round_ is not None:
        if round_ not in rounds:
            raise FileNotFoundError(
                f"run {run_id} has no rollouts for round {round_} in {store.root} (rounds with rollouts: {rounds})"
            )
        return [round_]
    if not rounds:
        raise FileNotFoundError(f"run {run_id} has no rollouts in {store.root}")
    return rounds


def by_pair(rows: list[dict]) -> dict[tuple[str, str], dict]:
    return {(r["rollout_id"], r["item_id"]): r for r in rows}


def item_kinds(store: Store, run_id: str) -> dict[str, tuple[str, str | None]]:
    """item_id -> (kind, checker), every rubric version."""
    return {r["item_id"]: (r["kind"], r["checker"]) for r in store.rows("rubrics", run_id)}


def groups_of(kind: str, checker: str | None) -> list[tuple[str, str]]:
    """The table rows a pair counts in: all, its kind, and its checker (rule items)."""
    return [("all", "*"), (kind, "*")] + ([(kind, checker)] if checker else [])


def ordered(groups: dict[tuple[str, str], list]) -> list[tuple[tuple[str, str], list]]:
    """all first, then each kind followed by its checkers."""
    return sorted(groups.items(), key=lambda g: (g[0][0] != "all", g[0][0], g[0][1] != "*", g[0][1]))


def verdict_agreement(old: list[dict], new: list[dict], kinds: dict[str, tuple[str, str | None]]) -> list[dict]:
    """Per item kind and checker, over the (rollout, item) pairs with both verdicts: pairs, pairs
    both known, agreement (the same verdict among those), unknowns on each side, flips, and the
    fraction of both-known pairs with the same token labels."""
    before = by_pair(old)
    groups: dict[tuple[str, str], list[tuple[dict, dict]]] = defaultdict(list)
    for v in new:
        if (key := (v["rollout_id"], v["item_id"])) in before:
            for group in groups_of(*kinds[v["item_id"]]):
                groups[group].append((before[key], v))
    rows = []
    for (kind, checker), pairs in ordered(groups):
        known = [(a, b) for a, b in pairs if a["verdict"] != 0 and b["verdict"] != 0]
        rows.append(
            {
                "kind": kind,
                "checker": checker,
                "pairs": len(pairs),
                "both_known": len(known),
                "agreement": sum(a["verdict"] == b["verdict"] for a, b in known) / len(known) if known else None,
                "unknown_old": sum(a["verdict"] == 0 for a, _ in pairs),
                "unknown_new": sum(b["verdict"] == 0 for _, b in pairs),
                "pass_to_fail": sum(a["verdict"] == 1 and b["verdict"] == -1 for a, b in pairs),
                "fail_to_pass": sum(a["verdict"] == -1 and b["verdict"] == 1 for a, b in pairs),
                "same_labels": sum(a["token_labels"] == b["token_labels"] for a, b in known) / len(known)
                if known
                else None,
            }
        )
    return rows


def rescore_verdicts(cfg: Config, store: Store, run_id: str, rounds: list[int]) -> dict:
    """Judge the rounds' stored rollouts again; write `verdicts` (and `llm_calls`) parts of their own."""
    label = judge_label(cfg)
    judge_value = PREFIX + label
    rubrics = load_rubrics(store, run_id)
    prompt_text = {p["prompt_id"]: conversation_text(p) for p in load_prompts(store, run_id)}
    judge = Judge.for_run(cfg)
    rows, answers, parts = [], [], []
    for round_ in rounds:
        rollouts = original_rows(store, "rollouts", run_id, [round_])
        tokenizer = load_tokenizer(starting_policy(cfg, store, run_id, round_))
        cases = rollout_cases(rollouts, prompt_text, rubrics, tokenizer)
        per_case, round_answers = judge.judge(run_id, round_, -1, cases, desc=f"rescore r{round_} judge")
        round_rows = []
        for rollout, case_rows in zip(rollouts, per_case):
            for row in case_rows:
                row.update(
                    step=rollout["step"],
                    judge=judge_value,
                    verdict_id=stable_id(row["rollout_id"], row["item_id"], judge_value),
                )
                round_rows.append(row)
        parts.append(rescore_part(label, round_))
        store.write("verdicts", round_rows, run_id, parts[-1])
        if round_answers:
            store.write(
                "llm_calls",
                call_rows(run_id, "rescore", round_, -1, cfg.judge.llm.model, round_answers),
                run_id,
                parts[-1],
            )
        rows += round_rows
        answers += round_answers
    return {
        "run_id": run_id,
        "judge": judge_value,
        "rounds": rounds,
        "parts": parts,
        **verdict_summary(rows, answers),
        "agreement": verdict_agreement(
            original_rows(store, "verdicts", run_id, rounds), rows, item_kinds(store, run_id)
        ),
    }


def cosine(a: np.ndarray, b: np.ndarray) -> float | None:
    """None when either vector is all zeros."""
    norms = np.linalg.norm(a) * np.linalg.norm(b)
    return float(a @ b / norms) if norms > 0 else None


def pearson(a: np.ndarray, b: np.ndarray) -> float | None:
    """None when either vector is constant (or shorter than 2)."""
    if len(a) < 2 or a.std() == 0 or b.std() == 0:
        return None
    return float(np.corrcoef(a, b)[0, 1])


def mean_of(values: list[float | None]) -> float | None:
    known = [v for v in values if v is not None]
    return float(np.mean(known)) if known else None


def relevance_agreement(old: list[dict], new: list[dict], kinds: dict[str, tuple[str, str | None]]) -> list[dict]:
    """Per item kind and checker, over the (rollout, item) pairs scored both ways: mean cosine and
    mean Pearson correlation of the two relevance vectors (over the pairs where they are defined),
    the fraction of tokens on which the >= 0.5 decisions agree, and the F1 (Dice) of the two
    decisions' token sets."""
    before = {key: np.asarray(s["relevance"], dtype=np.float64) for key, s in by_pair(old).items()}
    groups: dict[tuple[str, str], list[tuple[np.ndarray, np.ndarray]]] = defaultdict(list)
    for s in new:
        if (key := (s["rollout_id"], s["item_id"])) in before:
            for group in groups_of(*kinds[s["item_id"]]):
                groups[group].append((before[key], np.asarray(s["relevance"], dtype=np.float64)))
    rows = []
    for (kind, checker), pairs in ordered(groups):
        a, b = np.concatenate([p[0] for p in pairs]), np.concatenate([p[1] for p in pairs])  # [tokens] x2
        rows.append(
            {
                "kind": kind,
                "checker": checker,
                "pairs": len(pairs),
                "tokens": len(a),
                "cosine": mean_of([cosine(x, y) for x, y in pairs]),
                "pearson": mean_of([pearson(x, y) for x, y in pairs]),
                "agree_0.5": float(np.mean((a >= 0.5) == (b >= 0.5))) if len(a) else None,
                "f1_0.5": token_metrics(b, a >= 0.5)["f1"] if len(a) else None,
            }
        )
    return rows


def parse_source(text: str) -> tuple[str, Path | None]:
    """`discriminator:PATH` -> ("discriminator", PATH); an ablation name -> (name, None)."""
    if text.startswith("discriminator:"):
        path = Path(text.removeprefix("discriminator:"))
        if not (path / "config.json").exists():
            raise FileNotFoundError(f"no discriminator checkpoint at {path} (no config.json there)")
        return "discriminator", path
    if text not in RELEVANCE_SOURCES:
        raise ValueError(f"relevance source {text!r}: expected discriminator:PATH or one of {list(RELEVANCE_SOURCES)}")
    return text, None


def step_scores(
    cfg: Config,
    source: str,
    rollouts: list[dict],
    rubrics: dict,
    labels: dict,
    discriminator,
    tokenizer,
    generator: torch.Generator,
) -> torch.Tensor:
    """Relevance [N, K, T] of one GRPO step's rollouts, as the step scored them (`labels`: the original
    verdicts' token labels by (rollout, item), gold's source and the output's shape)."""
    items = [rubrics.get(r["prompt_id"], []) for r in rollouts]
    k = max(max(map(len, items)), 1)
    t = max(max(len(r["token_ids"]) for r in rollouts), 1)
    gold = dense(
        [[labels[(r["rollout_id"], i.item_id)] for i in its] for r, its in zip(rollouts, items)], k, t
    )  # [N, K, T]
    return relevance(
        source,
        gold=gold,
        item_texts=[[i.text for i in its] for its in items],
        responses=[r["token_ids"] for r in rollouts],
        discriminator=discriminator,
        tokenizer=tokenizer,
        instruction=cfg.discriminator.instruction,
        batch_size=cfg.discriminator.score_batch_size,
        pack_length=cfg.discriminator.pack_length,
        generator=generator,
    )  # [N, K, T]


def step_credit(cfg: Config, rollouts: list[dict], rubrics: dict, verdicts: dict, old: dict, new: dict) -> float | None:
    """`rtt.compare.results.step_agreement` of one step with the new relevance (gated by the run's
    `grpo.relevance_threshold`) in gold's place; None when the step has no stored relevance."""
    responses = []
    for r in sorted(rollouts, key=lambda r: (r["prompt_id"], r["sample_index"])):  # groups consecutive
        keys = [(r["rollout_id"], i.item_id) for i in rubrics.get(r["prompt_id"], [])]
        if not keys or any(key not in old for key in keys):
            return None
        responses.append(
            [
                {
                    "verdict": verdicts[key]["verdict"],
                    "relevance": old[key],
                    "token_labels": gate(torch.tensor(new[key]), cfg.grpo.relevance_threshold).tolist(),
                }
                for key in keys
            ]
        )
    return step_agreement(responses, cfg.grpo.group_size, cfg.grpo.token_norm, cfg.grpo.relevance_threshold)


def round_relevance(
    cfg: Config,
    store: Store,
    run_id: str,
    round_: int,
    source: str,
    source_value: str,
    rubrics: dict,
    discriminator,
    generator: torch.Generator,
) -> tuple[list[dict], list[dict], dict]:
    """(new `token_scores` rows, the stored ones, credit agreement per step) of one round's GRPO steps."""
    steps: dict[int, list[dict]] = defaultdict(list)
    for r in original_rows(store, "rollouts", run_id, [round_], grpo_only=True):
        steps[r["step"]].append(r)  # in the order of the step's batch
    verdicts = by_pair(original_rows(store, "verdicts", run_id, [round_], grpo_only=True))
    labels = {key: v["token_labels"] for key, v in verdicts.items()}
    stored = original_rows(store, "token_scores", run_id, [round_], grpo_only=True)
    old = {key: s["relevance"] for key, s in by_pair(stored).items()}
    tokenizer = load_tokenizer(starting_policy(cfg, store, run_id, round_)) if steps else None
    rows, credit = [], {}
    for step, rollouts in sorted(steps.items()):
        rel = step_scores(cfg, source, rollouts, rubrics, labels, discriminator, tokenizer, generator)  # [N, K, T]
        step_rows = [
            {
                "run_id": run_id,
                "rollout_id": r["rollout_id"],
                "item_id": item.item_id,
                "round": round_,
                "step": step,
                "source": source_value,
                "relevance": rel[i, j, : len(r["token_ids"])].tolist(),
            }
            for i, r in enumerate(rollouts)
            for j, item in enumerate(rubrics.get(r["prompt_id"], []))
        ]
        new = {key: s["relevance"] for key, s in by_pair(step_rows).items()}
        credit[step_part(round_, step)] = step_credit(cfg, rollouts, rubrics, verdicts, old, new)
        rows += step_rows
    return rows, stored, credit


def rescore_relevance(cfg: Config, store: Store, run_id: str, rounds: list[int], source_text: str) -> dict:
    """Score the rounds' GRPO-step rollouts with another relevance source; write `token_scores` parts
    of their own. Rounds whose grpo stage has not run are skipped; FileNotFoundError if all are."""
    source, path = parse_source(source_text)
    label = discriminator_label(path) if path else source
    source_value = PREFIX + label
    rubrics = load_rubrics(store, run_id)
    discriminator = load_discriminator(str(path), discriminator_device(cfg)) if path else None
    generator = torch.Generator().manual_seed(cfg.seed)  # `random`: the same scores on a rerun
    rows, old_rows, credit, parts, scored = [], [], {}, [], []
    for round_ in rounds:
        new, stored, round_credit = round_relevance(
            cfg, store, run_id, round_, source, source_value, rubrics, discriminator, generator
        )
        if not new:
            continue
        parts.append(rescore_part(label, round_))
        store.write("token_scores", new, run_id, parts[-1])
        rows, old_rows, credit, scored = rows + new, old_rows + stored, credit | round_credit, scored + [round_]
    if not scored:
        raise FileNotFoundError(
            f"run {run_id} has no GRPO-step rollouts in round(s) {rounds}: run the grpo stage first"
        )
    return {
        "run_id": run_id,
        "source": source_value,
        "rounds": scored,
        "parts": parts,
        "token_scores": len(rows),
        "credit_agreement": credit,
        "agreement": relevance_agreement(old_rows, rows, item_kinds(store, run_id)),
    }


def rescore(
    store: Store,
    run_id: str,
    round_: int | None = None,
    judge: str | None = None,
    relevance_source: str | None = None,
    overrides: list[str] | tuple[str, ...] = (),
) -> dict:
    """Judge again (`judge`: rule | llm | auto) or score relevance again (`relevance_source`); the summary,
    with its agreement table under "agreement". FileNotFoundError names a missing run, round or checkpoint."""
    if (judge is None) == (relevance_source is None):
        raise ValueError("rescore: give either a judge mode or a relevance source")
    cfg = load_run_config(store, run_id, [*overrides, *([f"judge.mode={judge}"] if judge else [])])
    rounds = stored_rounds(store, run_id, round_)
    if judge:
        return rescore_verdicts(cfg, store, run_id, rounds)
    return rescore_relevance(cfg, store, run_id, rounds, relevance_source)
