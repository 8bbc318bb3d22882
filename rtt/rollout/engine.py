"""Rollout engines: one interface over transformers `generate` and an in-process vLLM engine.

`engine_for(cfg, path)` returns the engine `rollout.engine` names, and `engine.sample(model,
tokenizer, prompts, ...)` returns `Sample`s (rtt.rollout.sampler) of the same shape from either:
prompt ids from the policy's chat template, generated ids up to and including the first EOS, and
each sampled token's logprob under logits / temperature.

The vLLM engine runs inside this process: vLLM's engine core and its single worker are not separate
processes (VLLM_ENABLE_V1_MULTIPROCESSING=0, as TRL's colocate mode does), so the policy's weights
reach it as tensors, with no serialization and no round trip through disk. Before every sampling
call `sync` copies the policy's parameters into the engine's model in place (vLLM's
`reload_weights`, which re-runs its post-load processing such as repacking for CPU kernels; a
tied LM head is then re-tied, `retie_lm_head`) and drops the prefix cache, whose KV entries the
old weights computed. One engine per model architecture lives for the process, so the rollouts,
GRPO and eval stages of every round of a pipeline share it.

Where the vLLM engine departs from the transformers sampler:
- its logprobs are vLLM's `processed_logprobs`, log softmax of logits / temperature after top-k/top-p
  filtering: with top_p < 1 they are the truncated distribution's (the probabilities the tokens
  were really drawn with); the transformers sampler records them before top-p. At top_p = 1
  (every preset) they are the same quantity;
- `batch_size` is ignored: vLLM schedules sequences itself (continuous batching);
- its random streams are its own: the same seed draws different samples than transformers.
"""

from __future__ import annotations

import gc
import json
import logging
import os
import time
from functools import partial

import torch
from tqdm.auto import tqdm

from rtt.config import Config, RolloutConfig
from rtt.models import resolve_device
from rtt.rollout.sampler import Sample, make_sample, prompt_token_ids, sample

log = logging.getLogger(__name__)

VOLATILE_CONFIG_KEYS = frozenset({"_name_or_path", "transformers_version", "torch_dtype", "dtype"})
"""config.json keys that differ between checkpoints of one architecture (they need no new engine)."""


class HFEngine:
    """transformers `generate` on the policy model itself (rtt.rollout.sampler.sample)."""

    name = "hf"
    sync_s = 0.0  # samples from the model it is given: nothing to sync

    def __init__(self, batch_size: int = 32):
        self.batch_size = batch_size

    def sample(
        self,
        model,
        tokenizer,
        prompts: list[str | list[dict]],
        n: int,
        max_new_tokens: int,
        temperature: float = 1.0,
        top_p: float = 1.0,
        seed: int = 0,
        greedy: bool = False,
        desc: str = "sampling",
        logprobs: bool = True,
    ) -> list[Sample]:
        return sample(
            model,
            tokenizer,
            prompts,
            n,
            max_new_tokens,
            temperature,
            top_p,
            self.batch_size,
            seed,
            greedy,
            desc,
            logprobs,
        )


def retie_lm_head(worker) -> None:
    """Point a tied LM head at the embeddings again, after vLLM's `reload_weights` (run in the worker),
    and redo its post-load processing (on CPU: the packed copy of the weight its matmul reads).

    A model with tied embeddings has no LM head weight of its own to load, so the layer-wise reload
    puts the head's old tensors back: it would keep scoring with the embeddings of the first load
    (measured: a 0.76 mean logprob gap after moving SmolLM2's embeddings by N(0, 0.02))."""
    model = worker.model_runner.get_model()
    if getattr(model.config, "tie_word_embeddings", False):
        head = model.lm_head.tie_weights(model.model.embed_tokens)
        head.quant_method.process_weights_after_loading(head)


class VLLMEngine:
    """A vLLM `LLM` built once from a checkpoint folder; `sample` first syncs the given model's weights."""

    name = "vllm"

    def __init__(self, path: str, cfg: RolloutConfig, device: torch.device):
        os.environ["VLLM_ENABLE_V1_MULTIPROCESSING"] = "0"  # engine core and worker in this process
        os.environ.setdefault("VLLM_LOGGING_LEVEL", "WARNING")
        if device.type == "cpu":
            os.environ["VLLM_CPU_KVCACHE_SPACE"] = str(cfg.kv_cache_gib)
        from vllm import LLM

        dtype = cfg.dtype if cfg.dtype != "auto" else ("bfloat16" if device.type == "cuda" else "float32")
        set_num_threads = torch.set_num_threads
        start = time.perf_counter()
        try:
            self.llm = LLM(
                model=path,
                dtype=dtype,
                enforce_eager=cfg.enforce_eager,
                max_model_len=cfg.max_model_len or None,
                gpu_memory_utilization=cfg.gpu_memory_utilization,
                generation_config="vllm",  # no sampling defaults from the checkpoint: ours only
                logprobs_mode="processed_logprobs",  # log softmax(logits / temperature), see the header
            )
        finally:
            # vLLM's CPU worker turns torch.set_num_threads into a no-op, for when it has bound its
            # own process's threads to cores; here it shares the trainer's process and binds nothing.
            torch.set_num_threads = set_num_threads
        self.startup_s = time.perf_counter() - start
        # Every sync, the reload warns that the tied LM head got no weights of its own (and that
        # the rotary embedding, which has none, got none): expected, and handled by retie_lm_head.
        # (Set after LLM(): building it reconfigures vLLM's loggers.)
        logging.getLogger("vllm.model_executor.model_loader.reload.layerwise").setLevel(logging.ERROR)
        self.sync_s = 0.0
        log.info("vLLM engine on %s (%s, %s) started in %.1f s", device, path, dtype, self.startup_s)

    @torch.no_grad()
    def sync(self, model) -> None:
        """Copy `model`'s parameters into the engine's model, in place, and drop cached prefixes."""
        start = time.perf_counter()
        weights = [(name, p.detach()) for name, p in model.named_parameters()]
        self.llm.collective_rpc("reload_weights", kwargs={"weights_iterator": weights})
        self.llm.collective_rpc(retie_lm_head)
        self.llm.reset_prefix_cache()
        self.sync_s = time.perf_counter() - start  # the last sync's seconds

    def sample(
        self,
        model,
        tokenizer,
        prompts: list[str | list[dict]],
        n: int,
        max_new_tokens: int,
        temperature: float = 1.0,
        top_p: float = 1.0,
        seed: int = 0,
        greedy: bool = False,
        desc: str = "sampling",
        logprobs: bool = True,
    ) -> list[Sample]:
        from vllm import SamplingParams
        from vllm.inputs import TokensPrompt

        self.sync(model)  # always: the engine cannot tell whether the weights changed since the last call
        encoded = [prompt_token_ids(tokenizer, p) for p in prompts]
        params = [
            SamplingParams(
                n=n,
                max_tokens=max_new_tokens,
                temperature=0.0 if greedy else temperature,
                top_p=1.0 if greedy else top_p,
                seed=seed + i * n,  # vLLM seeds the i-th prompt's k-th response with seed + i * n + k
                logprobs=0 if logprobs else None,  # 0: the sampled token's logprob only
                stop_token_ids=[tokenizer.eos_token_id],
                detokenize=False,
            )
            for i in range(len(prompts))
        ]
        outputs = self.llm.generate(
            [TokensPrompt(prompt_token_ids=ids) for ids in encoded],
            params,
            use_tqdm=partial(tqdm, desc=desc, leave=False),
        )
        samples = []
        for i, out in enumerate(outputs):
            for k, c in enumerate(sorted(out.outputs, key=lambda c: c.index)):
                tokens = list(c.token_ids)
                logps = [c.logprobs[t][token].logprob for t, token in enumerate(tokens)] if logprobs else []
                samples.append(make_sample(tokenizer, i, k, encoded[i], tokens, logps))
        return samples

    def close(self) -> None:
        self.llm.llm_engine.engine_core.shutdown()
        del self.llm
        gc.collect()


_ENGINES: dict[tuple, VLLMEngine] = {}
"""The process's vLLM engine, keyed by what it was built for (at most one: each holds memory)."""


def architecture(path: str) -> str:
    """The model's config (a folder or a hub id) without what changes between checkpoints of one model."""
    from transformers import AutoConfig

    config = AutoConfig.from_pretrained(path).to_dict()
    return json.dumps({k: v for k, v in config.items() if k not in VOLATILE_CONFIG_KEYS}, sort_keys=True, default=str)


def engine_for(cfg: Config, path: str, batch_size: int) -> HFEngine | VLLMEngine:
    """The engine of `cfg.rollout.engine` for the policy checkpoint at `path`. A vLLM engine is
    reused while the architecture, device and engine settings stay the same (later checkpoints
    of the policy reach it through `sync`); otherwise the old one is closed and a new one built."""
    if cfg.rollout.engine == "hf":
        return HFEngine(batch_size)
    device = resolve_device(cfg.model.device)
    key = (architecture(path), str(device), cfg.rollout.model_dump_json())
    if key not in _ENGINES:
        close_engines()
        _ENGINES[key] = VLLMEngine(path, cfg.rollout, device)
    return _ENGINES[key]


def close_engines() -> None:
    """Shut the process's vLLM engine down (tests; switching models)."""
    while _ENGINES:
        _ENGINES.popitem()[1].close()
