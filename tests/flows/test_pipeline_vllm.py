"""The smoke pipeline with `rollout.engine=vllm`, a real Prefect flow run: one in-process vLLM engine
(CPU) serves the rollouts, GRPO and eval stages of both rounds, and every GRPO step samples from the
weights the trainer has at that step."""

from __future__ import annotations

import pytest
import torch

from rtt.data.catalog import query
from rtt.data.items import conversation, load_prompts
from rtt.data.store import Store
from rtt.models import load_causal_lm, load_tokenizer
from rtt.rollout.engine import VLLMEngine, close_engines
from rtt.rollout.sampler import sample


@pytest.fixture(scope="module")
def vllm_run(harness, tmp_path_factory, untied_model_dir):
    from flows.pipeline import pipeline

    root = tmp_path_factory.mktemp("pipeline-vllm")
    built = []
    start = VLLMEngine.__init__

    def counted(self, *args, **kwargs):
        built.append(args[0])
        start(self, *args, **kwargs)

    overrides = [
        f"data_dir={root / 'data'}",
        f"tracking_uri={root / 'mlflow'}",
        f"model.policy={untied_model_dir}",
        "rollout.engine=vllm",
    ]
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(VLLMEngine, "__init__", counted)
        result = pipeline(config="smoke", overrides=overrides, run_id="vllm-1")
    yield Store(root / "data"), result, built
    close_engines()


def test_one_engine_serves_every_stage_of_every_round(vllm_run):
    store, result, built = vllm_run
    assert len(built) == 1
    assert {"rollouts-r0", "grpo-r0", "eval-r0", "rollouts-r1", "grpo-r1", "eval-r1"} <= set(result["wall_s"])
    assert query(store, "SELECT count(*) AS n FROM rollouts WHERE step = -1").to_pylist()[0]["n"] == 2 * 4 * 2


def test_every_grpo_step_samples_from_the_trainers_current_weights(vllm_run):
    store, _, _ = vllm_run
    steps = query(
        store, "SELECT round, step, logprob_gap_max, t_sync FROM train_steps ORDER BY round, step"
    ).to_pylist()
    assert [(s["round"], s["step"]) for s in steps] == [(0, 0), (0, 1), (1, 0), (1, 1)]
    # a stale engine is off by more than 1e-2 (tests/rollout/test_engine.py); float32 kernels agree to 1e-5
    assert all(s["logprob_gap_max"] < 1e-4 and s["t_sync"] > 0 for s in steps), steps


def test_eval_answers_are_the_checkpoints_own_greedy_answers(vllm_run):
    store, _, _ = vllm_run
    checkpoint = store.run_dir("vllm-1") / "policy" / "round_1"
    model, tokenizer = load_causal_lm(str(checkpoint), torch.device("cpu")), load_tokenizer(str(checkpoint))
    prompts = load_prompts(store, "vllm-1", "eval")
    expected = sample(model, tokenizer, [conversation(p) for p in prompts], 1, 12, greedy=True, logprobs=False)
    rows = query(store, "SELECT prompt_id, response FROM generations WHERE round = 1").to_pylist()
    answers = {r["prompt_id"]: r["response"] for r in rows}
    assert [answers[p["prompt_id"]] for p in prompts] == [s.text for s in expected]
