"""LLM rubric writing and the "chasing the tail" refinement (METHOD.md section 8).

1. From the prompt alone, the writer LLM drafts binary criteria with weights 1-3 (version 0).
2. Each refinement round: a pool of strong, diverse candidate responses (the writer LLM sampled at
   `rubrics.candidate_temperature`, one request per candidate, drawn once per prompt) is graded
   with the current rubric by the LLM judge; the two best by weighted score are shown to the writer,
   which rewrites the rubric so that it tells them apart. The result is version v + 1, stored with
   its parent version and the pair that triggered it (`rubrics.trigger`: candidate ids, scores,
   texts). The point is resolution at the top: telling Excellent from merely Great.

Verifiable items (rule checkers) are kept as they are in every version; the writer only writes the
LLM-graded ones. An answer the writer gets wrong (not JSON, no usable criterion) leaves the prompt's
rubric as it was, and is counted: one bad answer never stops the stage.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from rtt.data.items import RubricItem
from rtt.judge.llm import json_object
from rtt.judge.verdicts import Case, Judge
from rtt.llm.client import Answer, ChatClient

WRITER_SYSTEM = (
    "You write grading rubrics for AI assistant responses: lists of binary criteria that a "
    "strict grader can check by reading the response alone."
)
FORMAT = (
    'Return only a JSON object: {"criteria": [{"text": "<one checkable yes/no criterion>", '
    '"weight": <1, 2 or 3>}, ...]} '
    "with weight 3 for essential, 2 for important and 1 for nice-to-have criteria."
)
TRIGGER_CHARS = 4000


@dataclass
class Draft:
    """A prompt's LLM-graded criteria in one version, with where they came from."""

    criteria: list[dict]
    """[{"text", "weight"}], weights in 1..3."""
    version: int = 0
    parent_version: int | None = None
    trigger: dict | None = None
    failures: list[str] = field(default_factory=list)
    """Why writer answers were not used (the rubric stayed as it was)."""


def draft_messages(request: str, max_items: int) -> list[dict]:
    user = (
        f"[Request]\n{request}\n\nWrite a rubric of at most {max_items} criteria for responses to this request. "
        "Cover what any good response must do, and add criteria that separate an excellent response from a "
        f"merely good one. {FORMAT}"
    )
    return [{"role": "system", "content": WRITER_SYSTEM}, {"role": "user", "content": user}]


def refine_messages(request: str, criteria: list[dict], best: str, second: str, max_items: int) -> list[dict]:
    listed = "\n".join(f"{n}. (weight {c['weight']}) {c['text']}" for n, c in enumerate(criteria, 1))
    user = (
        f"[Request]\n{request}\n\n[Current rubric]\n{listed}\n\n[Response A]\n{best}\n\n[Response B]\n{second}\n\n"
        "Responses A and B are the two best of several candidates under the current rubric, and it barely tells "
        "them apart. Rewrite the rubric so that it separates them: keep the criteria that still matter, sharpen "
        "vague ones, and add criteria on the qualities where the better of the two is better. At most "
        f"{max_items} criteria. {FORMAT}"
    )
    return [{"role": "system", "content": WRITER_SYSTEM}, {"role": "user", "content": user}]


def parse_criteria(answer: str, max_items: int) -> list[dict]:
    """The usable criteria of a writer answer: non-empty text, integer weight 1..3, no duplicates,
    at most max_items; [] when there are none."""
    obj = json_object(answer)
    entries = obj.get("criteria") if obj is not None else None
    out, seen = [], set()
    for entry in entries if isinstance(entries, list) else []:
        if not isinstance(entry, dict):
            continue
        text, weight = entry.get("text"), entry.get("weight")
        if not isinstance(text, str) or not text.strip() or text.strip().lower() in seen:
            continue
        if (
            isinstance(weight, bool)
            or not isinstance(weight, (int, float))
            or weight != int(weight)
            or not 1 <= weight <= 3
        ):
            continue
        seen.add(text.strip().lower())
        out.append({"text": text.strip(), "weight": int(weight)})
    return out[:max_items]


def written_items(prompt_id: str, rule_items: list[RubricItem], criteria: list[dict]) -> list[RubricItem]:
    """The rubric a version grades with: the rule items, then the written criteria."""
    llm = [
        RubricItem(f"{prompt_id}-w{k}", prompt_id, len(rule_items) + k, c["text"], float(c["weight"]), "llm", None, {})
        for k, c in enumerate(criteria)
    ]
    return [*rule_items, *llm]


def weighted_score(rows: list[dict], items: list[RubricItem]) -> float:
    """Weighted fraction of satisfied items (unknown verdicts count as not satisfied)."""
    total = sum(item.weight for item in items)
    return sum(item.weight for item, row in zip(items, rows) if row["verdict"] > 0) / total if total else 0.0


class RubricWriter:
    """Drafts and refines the LLM-graded part of each prompt's rubric."""

    def __init__(self, writer: ChatClient, judge: Judge, max_items: int, candidates: int, temperature: float):
        self.writer, self.judge = writer, judge
        self.max_items, self.n_candidates, self.temperature = max_items, candidates, temperature
        self.answers: list[Answer] = []
        """Every writer answer (drafts, candidates, rewrites)."""
        self.judge_answers: list[Answer] = []
        """The judge's answers grading the candidates."""

    def ask(self, bodies: list[dict], desc: str) -> list[Answer]:
        answers = self.writer.complete_all(bodies, desc)
        self.answers += answers
        return answers

    def draft(self, requests: dict[str, str]) -> dict[str, Draft]:
        """Version 0 for each prompt id -> request text."""
        bodies = [self.writer.request(draft_messages(text, self.max_items)) for text in requests.values()]
        drafts = {}
        for prompt_id, answer in zip(requests, self.ask(bodies, "rubric drafts")):
            criteria = parse_criteria(answer.content or "", self.max_items)
            failure = (
                [] if criteria else [f"draft: {answer.error or 'no usable criterion: ' + (answer.content or '')[:300]}"]
            )
            drafts[prompt_id] = Draft(criteria, failures=failure)
        return drafts

    def candidates(self, requests: dict[str, list[dict]]) -> dict[str, list[str]]:
        """The candidate pool per prompt: n samples from the writer model (failed ones left out)."""
        bodies = [
            self.writer.request(messages, temperature=self.temperature, seed=i)
            for messages in requests.values()
            for i in range(self.n_candidates)
        ]
        answers = iter(self.ask(bodies, "rubric candidates"))
        return {
            prompt_id: [a.content for a in (next(answers) for _ in range(self.n_candidates)) if a.content]
            for prompt_id in requests
        }

    def refine(
        self,
        run_id: str,
        requests: dict[str, str],
        rule_items: dict[str, list[RubricItem]],
        drafts: dict[str, Draft],
        pools: dict[str, list[str]],
        round_: int,
    ) -> dict[str, Draft]:
        """One refinement round over every prompt with criteria and at least two candidates."""
        ready = [p for p, d in drafts.items() if d.criteria and len(pools.get(p, [])) >= 2]
        rubrics = {p: written_items(p, rule_items[p], drafts[p].criteria) for p in ready}
        cases = [Case(f"{p}-c{c}", requests[p], text, [], rubrics[p]) for p in ready for c, text in enumerate(pools[p])]
        rows, answers = self.judge.judge(
            run_id, -1, round_, cases, desc=f"rubric refinement {round_}: grade candidates"
        )
        self.judge_answers += answers
        scores = iter(weighted_score(r, case.items) for r, case in zip(rows, cases))
        ranked = {
            p: sorted(((next(scores), c) for c in range(len(pools[p]))), key=lambda sc: (-sc[0], sc[1])) for p in ready
        }
        bodies = [
            self.writer.request(
                refine_messages(
                    requests[p],
                    drafts[p].criteria,
                    pools[p][ranked[p][0][1]],
                    pools[p][ranked[p][1][1]],
                    self.max_items,
                )
            )
            for p in ready
        ]
        out = dict(drafts)
        for p, answer in zip(ready, self.ask(bodies, f"rubric refinement {round_}: rewrite")):
            criteria = parse_criteria(answer.content or "", self.max_items)
            old = drafts[p]
            if not criteria:
                why = answer.error or "no usable criterion: " + (answer.content or "")[:300]
                out[p] = Draft(
                    old.criteria,
                    old.version,
                    old.parent_version,
                    old.trigger,
                    [*old.failures, f"round {round_}: {why}"],
                )
                continue
            (s1, c1), (s2, c2) = ranked[p][:2]
            trigger = {
                "round": round_,
                "candidates": [f"{p}-c{c1}", f"{p}-c{c2}"],
                "scores": [round(s1, 4), round(s2, 4)],
                "texts": [pools[p][c1][:TRIGGER_CHARS], pools[p][c2][:TRIGGER_CHARS]],
                "pool": len(pools[p]),
            }
            out[p] = Draft(criteria, old.version + 1, old.version, trigger, old.failures)
        return out


def trigger_json(draft: Draft) -> str | None:
    return json.dumps(draft.trigger, ensure_ascii=False) if draft.trigger is not None else None
