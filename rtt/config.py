"""Typed run configuration: one section per stage, YAML presets, dotted overrides.

A run is configured by a preset (a YAML file shipped in `rtt/presets/`, or any path) plus
`key=value` overrides such as `grpo.lr=1e-6`. Every section rejects unknown keys with the key's
dotted name, every field is documented, and the defaults are the vetted setting. The resolved
configuration is saved next to the run's outputs and logged to MLflow.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

PRESETS_DIR = Path(__file__).parent / "presets"


class Section(BaseModel):
    """A config section: typed, documented, unknown keys rejected, assignments validated."""

    model_config = ConfigDict(extra="forbid", use_attribute_docstrings=True, validate_assignment=True)


class ModelConfig(Section):
    policy: str = "smollm2-135m-instruct"
    """The policy to start from: a local folder, a hub id, or one of the built-in names
    `smollm2-135m-instruct` (hub id, else the offline GGUF package converted once under data/)
    and `tiny` (a tiny random Llama with an in-process BPE tokenizer, for tests)."""
    dtype: Literal["float32", "bfloat16"] = "float32"
    """Dtype of the trained weights. On CUDA, bf16 autocast is used for forward passes either way."""
    device: str = "auto"
    """`auto` (cuda if available, else cpu), `cpu`, or `cuda[:i]`."""


class LLMConfig(Section):
    """An OpenAI-compatible chat completions endpoint (`vllm serve`, a hosted API, a local server)."""

    base_url: str = "http://127.0.0.1:8000/v1"
    """The API root, up to and including `/v1` (the client posts to `<base_url>/chat/completions`)."""
    model: str = ""
    """The model name the endpoint serves (required before any call is made)."""
    api_key_env: str | None = None
    """Name of the environment variable holding the API key (sent as a Bearer token). The key
    itself is never stored in a config, a table or MLflow. None: no key."""
    max_concurrency: int = 16
    """Requests in flight at once."""
    requests_per_minute: float = 0.0
    """Start at most this many requests per minute (0: no limit)."""
    timeout_s: float = 60.0
    """Per-request timeout (connect, read and write)."""
    max_retries: int = 5
    """Retries of a request after a 429, a 5xx, a timeout, a dropped connection or a malformed
    body, with exponential backoff and jitter (or the server's Retry-After)."""
    backoff_s: float = 1.0
    """First retry delay; it doubles with each retry, with jitter, up to `max_backoff_s`."""
    max_backoff_s: float = 30.0
    """Longest wait between two attempts, Retry-After included."""
    temperature: float = 0.0
    """Sampling temperature of the judged/written answer."""
    max_tokens: int = 1024
    """Longest answer, in tokens."""
    cache: bool = True
    """Keep every successful answer in `<data_dir>/cache/llm.sqlite`, keyed by the request
    (model, messages, sampling settings): re-running a stage costs no calls."""


class RubricsConfig(Section):
    source: Literal[
        "builtin", "testbed", "ifeval_jsonl", "verl_parquet", "rar", "rubrichub", "healthbench", "prompts"
    ] = "builtin"
    """Where prompts and rubrics come from. `builtin`: procedurally generated prompts with
    verifiable (rule-graded) items. `testbed`: the credit-assignment testbed's prompts, each with
    `max_items` forbidden-word items, for the `testbed` policy (`rtt/testbed.py`).
    The others are the file formats of `rtt.importers.FORMATS`.
    `ifeval_jsonl`: an IFEval-format JSONL file (google/IFEval's input_data.jsonl or its Hugging
    Face copy; `rtt/importers/ifeval.py`). `verl_parquet`: a verl-layout Parquet file whose
    reward_model.ground_truth holds IFEval's instruction_id_list and kwargs (`rtt/importers/verl.py`):
    those items are rule-graded. `rar`, `rubrichub`, `healthbench`: LLM-graded rubrics (RaR's
    weighted categories, RubricHub's criterion/points, HealthBench's physician rubrics), pitfalls
    included (`rtt/importers/rubric_sets.py`). `prompts`: plain prompts whose rubrics the LLM writer
    writes (needs `rubrics.write`; `rtt/importers/plain.py`)."""
    path: str | None = None
    """The dataset file, required unless `source` is `builtin` or `testbed` (where it is ignored). A
    relative path is relative to the working directory."""
    unknown_ids: Literal["error", "skip"] = "error"
    """Imports: an instruction id with no rule checker is an error (`error`), or its item is
    dropped, and so is a prompt left with no item (`skip`); the stage summary counts both."""
    n_prompts: int = 48
    """`builtin`: number of prompts to generate (train + eval). Imports: the first n_prompts
    prompts of the file, in file order, after skipping (0 = all of them)."""
    eval_fraction: float = 0.25
    """Fraction of prompts held out for evaluation (split by prompt, drawn by `seed`). An imported
    file whose rows name their split (verl extra_info.split) keeps it instead, when the prompts
    taken include both train and eval rows."""
    max_items: int = 3
    """`builtin`: maximum rubric items per prompt (METHOD.md caps this at 20; the generator draws
    at most 6 compatible ones). Imported prompts keep all their items."""
    seed: int | None = None
    """Seed of the prompts and of the train/eval split; None: the run's `seed`. `rtt compare` fixes
    it, so that every arm and seed of an experiment trains and is evaluated on the same prompts."""
    checkers: list[str] = []
    """`builtin`: draw only these instruction ids (e.g. the items a small policy meets some of the
    time); empty: the whole pool of `kinds`. An id outside that pool is an error."""
    kinds: Literal["ifeval", "all"] = "all"
    """`builtin`: which checkers the generator draws from: IFEval's 25 instruction ids only
    (`ifeval`), or those plus rtt's further kinds (`all`; lengths, phrases, lists, tables...)."""
    write: bool = False
    """Ask the writer LLM (`rubrics.llm`) for binary criteria with weights 1-3 for every prompt,
    from the prompt alone; they are graded by the LLM judge, next to any verifiable items."""
    refine_rounds: int = 0
    """Rounds of the "chasing the tail" refinement of written rubrics (METHOD.md section 8; the
    paper uses 4): grade a pool of candidate responses, show the writer the top two, let it
    rewrite the rubric to separate them. Each round that changes a rubric stores a new version."""
    candidates: int = 8
    """Candidate responses per prompt in the refinement pool, sampled from the writer LLM."""
    candidate_temperature: float = 1.0
    """Sampling temperature of the candidates (diversity)."""
    max_written_items: int = 8
    """Most criteria the writer may give one prompt."""
    llm: LLMConfig = LLMConfig()
    """The rubric writer's endpoint (candidates are sampled from it too)."""

    @model_validator(mode="after")
    def _check(self) -> RubricsConfig:
        if self.n_prompts < 0:
            raise ValueError(f"rubrics.n_prompts must be >= 0, got {self.n_prompts}")
        if self.source not in ("builtin", "testbed") and not self.path:
            raise ValueError(f"rubrics.path (the dataset file) is required when rubrics.source is {self.source!r}")
        if self.source == "prompts" and not self.write:
            raise ValueError("rubrics.source=prompts has no rubrics: set rubrics.write=true to have the LLM write them")
        if self.refine_rounds and not self.write:
            raise ValueError("rubrics.refine_rounds refines written rubrics: set rubrics.write=true")
        if self.refine_rounds < 0 or self.candidates < 2 or self.max_written_items < 1:
            raise ValueError("rubrics: refine_rounds must be >= 0, candidates >= 2 and max_written_items >= 1")
        return self


class RolloutConfig(Section):
    """How every stage that generates (rollouts, the GRPO step, eval) samples: rtt.rollout.engine."""

    engine: Literal["hf", "vllm"] = "hf"
    """`hf`: transformers `generate` on the policy model itself. `vllm`: a vLLM engine in this process,
    built once and kept for the process (every stage and round of a pipeline), that receives the
    policy's weights in place before each sampling call."""
    dtype: Literal["auto", "float32", "bfloat16"] = "auto"
    """vLLM's dtype. `auto`: bfloat16 on CUDA, float32 on CPU (where bf16 is emulated and several
    times slower)."""
    kv_cache_gib: Annotated[int, Field(ge=1)] = 1
    """CPU: GiB of memory for vLLM's KV cache (VLLM_CPU_KVCACHE_SPACE; unset, vLLM would reserve most
    of the machine's memory)."""
    gpu_memory_utilization: Annotated[float, Field(gt=0.0, le=1.0)] = 0.3
    """CUDA: the fraction of the GPU's memory vLLM may take (weights and KV cache); the trainer
    shares the device, so keep room for the policy, its optimizer state and activations."""
    max_model_len: int = 0
    """Longest prompt + response vLLM accepts (0: the model's context length)."""
    enforce_eager: bool = True
    """Run vLLM's model eagerly: no torch.compile and no CUDA graphs. Engine start-up on CPU is
    seconds instead of about a minute; on a GPU set it false for faster decoding."""


class RolloutsConfig(Section):
    n_prompts: int = 16
    """Training prompts sampled by the offline rollouts stage (they feed discriminator training)."""
    group_size: int = 4
    """Responses sampled per prompt (G)."""
    max_new_tokens: int = 64
    """Longest response, in tokens."""
    temperature: float = 1.0
    """Sampling temperature; logprobs are computed on logits / temperature."""
    top_p: float = 1.0
    """Nucleus sampling threshold (1.0 = off)."""
    batch_size: int = 32
    """Sequences generated together (batched transformers `generate`, CPU or GPU)."""


class JudgeConfig(Section):
    mode: Literal["rule", "llm", "auto"] = "auto"
    """`rule`: rule checkers only (items without one get an unknown verdict). `llm`: every item
    goes to the LLM judge, the verifiable ones too (to measure the LLM judge against the rules).
    `auto`: the rule checker where an item has one, the LLM judge otherwise."""
    batch_items: bool = False
    """False: one YES/NO call per (response, item) (the RTT setup). True: all LLM-graded items of
    a response in one call answered as JSON (as in Chasing the Tail)."""
    quotes: bool = False
    """Also ask the LLM judge to quote the parts of the response that decided each item; located
    quotes become discriminator labels (quotes not found are dropped and counted)."""
    llm: LLMConfig = LLMConfig()
    """The LLM judge's endpoint."""


class DiscriminatorConfig(Section):
    backbone: str = "policy"
    """Backbone of the relevance model: `policy` (the starting policy's weights and tokenizer) or
    a path/hub id of a causal LM that shares the policy's tokenizer."""
    device: str = "policy"
    """Where the discriminator trains and scores: `policy` (the policy's `model.device`) or any
    torch device, e.g. `cuda:1` to keep it off the policy's GPU."""
    instruction: str = "Identify which tokens in the response are relevant to the criteria."
    """Fixed instruction placed before the item text."""
    epochs: int = 2
    """Passes over the training pairs (early stopping may end sooner)."""
    train_layers: int = 0
    """Train the head, the final norm and only the top this many transformer layers; the
    embeddings and lower layers stay frozen (each step is cheaper: no backward pass through
    them, no optimizer state for them). 0: train every weight."""
    max_steps: int = 0
    """Stop after this many optimizer steps (0 = no limit)."""
    batch_size: int = 8
    """(response, item) pairs per micro-batch."""
    grad_accum: int = 1
    """Micro-batches per optimizer step."""
    lr: float = 5e-5
    """Peak AdamW learning rate (linear warm-up, then cosine decay)."""
    warmup_ratio: float = 0.1
    """Fraction of optimizer steps spent warming up."""
    weight_decay: float = 0.0
    """AdamW weight decay."""
    eval_fraction: float = 0.2
    """Fraction of prompts held out to measure the discriminator (split by prompt, never by row)."""
    patience: int = 2
    """Early stopping: evaluations without held-out loss improvement before stopping."""
    pos_weight: float = 1.0
    """Weight of positive tokens in the BCE loss (relevant tokens are rare)."""
    pack_length: int = 1024
    """Tokens per packed row: (response, item) inputs are concatenated into rows of at most this
    many tokens, at training and scoring time, with attention kept inside each input, so no
    compute goes to padding. 0: one input per row, right-padded."""
    score_batch_size: int = 8
    """Packed rows per forward pass when scoring and evaluating."""
    save_every: int = 0
    """Save a resumable training state every this many optimizer steps (it is also saved after
    every held-out evaluation); a re-run of the stage continues from it. 0: only at evaluations."""
    nproc: Annotated[int, Field(ge=1)] = 1
    """Processes that train data-parallel (torchrun; gloo on CPU; nccl on GPUs, process i on GPU i
    whichever GPU `device` names). Each takes every nproc-th pair of each micro-batch and evaluates
    that share of the held-out pairs; gradients are summed over processes before each optimizer
    step, which is the one-process step but for the dropout masks; process 0 writes
    (rtt/data_parallel.py)."""


class GRPOConfig(Section):
    steps: int = 4
    """Policy-update steps per round (each samples a fresh batch from the current policy)."""
    prompts_per_step: int = 4
    """Prompts per step (B); each gets `group_size` responses."""
    group_size: int = 4
    """Responses per prompt (G)."""
    max_new_tokens: int = 64
    """Longest response, in tokens."""
    temperature: float = 1.0
    """Sampling temperature; the PPO ratio uses logits / temperature, as the sampler did."""
    top_p: float = 1.0
    """Nucleus sampling threshold (1.0 = off)."""
    lr: float = 1e-6
    """Peak AdamW learning rate."""
    warmup_steps: int = 0
    """Linear warm-up, in optimizer steps."""
    lr_schedule: Literal["constant", "cosine"] = "constant"
    """After warm-up: constant (the paper), or cosine decay to 0 over the stage's optimizer steps."""
    weight_decay: float = 0.0
    """AdamW weight decay."""
    updates_per_batch: int = 2
    """Optimizer steps per rollout batch (the batch is split into this many mini-batches)."""
    micro_batch_size: int = 8
    """Sequences per forward/backward pass (gradient accumulation over a mini-batch)."""
    grad_clip: float = 1.0
    """Max global gradient norm."""
    train_layers: int = 0
    """Train only the top this many transformer layers and the final norm (and the LM head when it
    is not tied to the embeddings); the embeddings and lower layers stay frozen: no backward pass
    through them, no gradients or AdamW state for them. SmolLM2 ties its LM head to the embeddings,
    so there the head stays frozen too. More than the model has: every layer, embeddings still
    frozen. 0: train every weight (the default for full training)."""
    reward_mode: Literal["all_or_nothing", "satisfaction_rate", "weighted"] = "all_or_nothing"
    """Response reward (METHOD.md section 2)."""
    scale: Literal["group", "batch", "none"] = "group"
    """Denominator of the group-relative response advantage."""
    token_norm: Literal["intra_sample", "inter_sample", "rubric_mean_group", "response_softmax"] = "intra_sample"
    """Normalization of the 3-D token reward (METHOD.md section 4)."""
    combine: Literal["add", "mix"] = "add"
    """How response and token advantages combine (METHOD.md section 5)."""
    token_weight: float = 0.5
    """lambda: weight of the token advantage. 0 is plain GRPO on the response reward."""
    relevance: Literal["discriminator", "uniform", "random", "lexical", "gold"] = "discriminator"
    """Source of token relevance: the trained discriminator, or a baseline: `uniform`, `random`,
    `lexical` (tokens overlapping the item's words) or `gold` (the rule checkers' spans)."""
    relevance_threshold: Annotated[float, Field(ge=0.0, le=1.0)] = 0.0
    """Relevance scores below this count as 0 before the token reward is normalized (not in the
    paper; 0 keeps every score, the paper's method). Under intra_sample a row of small scores, such
    as a learned discriminator's on a satisfied "do not" item, is otherwise stretched to full size:
    0.5, the discriminator's decision threshold, makes such rows contribute 0 as gold labels do
    (the `gpu` preset's setting; README, "Does it learn?")."""
    tis_cap: Annotated[float, Field(ge=0.0)] = 0.0
    """Truncated importance sampling against the sampler/trainer logprob mismatch: each token's
    policy-gradient term is weighted by min(pi_old / pi_sampler, tis_cap) (as TRL's
    `vllm_importance_sampling_correction`, whose cap is 2-3). 0: off. The gap itself is logged
    every step either way (`train_steps.logprob_gap_*`, rtt/grpo/mismatch.py)."""
    eps_low: float = 0.2
    """Lower PPO clip range."""
    eps_high: float = 0.27
    """Upper PPO clip range."""
    beta: float = 0.0
    """KL coefficient to the frozen starting policy (k3). 0 loads no reference model."""
    entropy_coef: float = 0.0
    """Entropy bonus coefficient."""
    loss_agg: Literal["seq_mean_token_mean", "token_mean", "seq_mean_token_sum_norm"] = "seq_mean_token_mean"
    """Loss aggregation over tokens and sequences (METHOD.md section 6)."""
    save_every: int = 10
    """Save a resumable state (policy, optimizer, scheduler, step counter, RNG) every this many
    steps; rerunning a stage that was killed continues from it. 0 = never."""
    nproc: Annotated[int, Field(ge=1)] = 1
    """Processes that train data-parallel (torchrun; gloo on CPU, nccl on GPUs, one GPU each). Each
    samples, judges and scores a contiguous block of the step's prompts (whole groups); gradients
    are summed over processes before each optimizer step; process 0 writes (rtt/data_parallel.py)."""

    @model_validator(mode="after")
    def _check(self) -> GRPOConfig:
        if self.nproc > self.prompts_per_step:
            raise ValueError(
                f"grpo.nproc ({self.nproc}) must not exceed grpo.prompts_per_step ({self.prompts_per_step}): "
                "every process samples whole groups"
            )
        return self


class EvalConfig(Section):
    max_prompts: int = 0
    """Held-out prompts to evaluate (0 = all of the eval split)."""
    max_new_tokens: int = 96
    """Longest greedy response, in tokens."""
    batch_size: int = 16
    """Prompts generated together."""
    ifeval: bool = False
    """Also evaluate on IFEval: its 541 prompts, greedy, graded by the official checker (strict
    and loose, prompt- and instruction-level, per instruction id)."""
    ifeval_max_prompts: int = 0
    """IFEval prompts to use, from the start of the file (0 = all 541)."""
    ifeval_max_new_tokens: int = 512
    """Longest greedy IFEval response, in tokens."""
    second_judge: bool = False
    """Also grade the held-out answers with a second LLM judge (`eval.second_judge_llm`), every
    item, the verifiable ones too (benchmark `heldout_rubrics_judge2`): reward hacking specific to
    the training judge shows as a gap between the two."""
    second_judge_llm: LLMConfig = LLMConfig()
    """The second judge's endpoint (another model than the training judge's)."""


class CompareConfig(Section):
    """`rtt compare`: named arms x seeds run side by side on the same prompts (`rtt/compare/`)."""

    arms: dict[str, dict[str, Any]] = {}
    """Arms besides the built-in ones (rtt, rtt-gold, rtt-uniform, rtt-random, grpo-aon, grpo-csr):
    name -> settings as dotted keys, e.g. `{rtt-lambda1: {grpo.token_weight: 1.0}}`. A built-in
    name given here has its settings replaced."""
    default_arms: list[str] = []
    """Arms run when `--arms` is not given; empty: every built-in arm, then those of `arms`."""
    target_reward: float | None = None
    """All-or-nothing training reward whose first crossing (by the smoothed curve) counts as
    "steps to target". None: GRPO-AON's final smoothed training reward, averaged over its seeds
    (the best of the arms' when grpo-aon is not run)."""
    smooth_steps: int = 5
    """Window, in steps, of the trailing moving average applied to training-reward curves before
    the target is sought (one step's reward is a mean over few responses: noisy)."""
    bootstrap: int = 2000
    """Resamples of the held-out prompts for the bootstrap intervals."""

    @model_validator(mode="after")
    def _check(self) -> CompareConfig:
        if self.smooth_steps < 1 or self.bootstrap < 100:
            raise ValueError("compare: smooth_steps must be >= 1 and bootstrap >= 100")
        return self


class Config(Section):
    name: str = "default"
    """Preset name, for display."""
    seed: int = 0
    """Seed of everything random: prompt generation, sampling, initialization."""
    rounds: int = 2
    """Rounds of rollouts -> judge -> discriminator -> grpo -> eval run by the pipeline."""
    data_dir: str = "data"
    """Root of the artifact lake (tables, checkpoints, resolved configs): a folder, or any fsspec
    URL (`s3://bucket/prefix`, with the `s3` extra installed). On a URL only the tables, and the
    MLflow artifacts of a new experiment, live there; checkpoints, resumable state, the run lock,
    the LLM answer cache and reports stay in a local folder, `$RTT_STATE_DIR/<url>` (default
    `~/.cache/rtt/state/<url>`)."""
    tracking_uri: str = "mlflow"
    """MLflow tracking URI. A plain path is a local store (a SQLite file inside it)."""
    experiment: str = "rtt"
    """MLflow experiment name."""
    tracking_ui: str = "http://127.0.0.1:5000"
    """The MLflow UI's address, for links (Prefect artifacts, `rtt campaign status`): where
    `mlflow ui` serves the local store (README, "The UIs"). Ignored when `tracking_uri` is an
    http(s) server, which is its own UI."""
    threads: int = 0
    """torch CPU threads (0 = torch's default)."""
    campaign: str | None = None
    """The campaign this run is (set by `rtt campaign start`; its run id is the campaign's name).
    Registered models and MLflow runs are tagged with it. None: a run on its own."""
    registry: bool = True
    """Register each round's policy and discriminator in MLflow's model registry (as
    `<run_id>-policy` / `<run_id>-discriminator`, by reference to the checkpoint folder), with alias
    `best` (by held-out item accuracy / token F1); `models:/NAME/latest` is MLflow's newest version."""
    stage_retries: Annotated[int, Field(ge=0)] = 0
    """Times a failed stage is retried by the pipeline flow (Prefect retries). Safe: LLM answers are
    cached, writes replace their parts, training resumes from its saved state."""
    stage_retry_delay_s: Annotated[float, Field(ge=0.0)] = 10.0
    """Seconds between a stage's failure and its retry."""
    stages_on_pools: bool = False
    """The pipeline flow sends each stage to its work pool, as a flow run of the stage's deployment
    (`rtt-<stage>/<stage>-<pool>`, `prefect.yaml`: GRPO, rollouts, discriminator and eval on `gpu`,
    rubrics and judge on `cpu`), and waits for it, instead of running it in its own process. Needs
    `prefect deploy --all`, a worker on each pool, and the run's folder (`data_dir`, or
    `RTT_STATE_DIR` for a lake on an object store) shared by the workers' hosts. Run the pipeline
    itself on `cpu` (deployment `pipeline-pools`), so that it does not hold a GPU worker's slot."""
    model: ModelConfig = ModelConfig()
    """The starting policy."""
    rubrics: RubricsConfig = RubricsConfig()
    """Prompts and rubric items."""
    rollout: RolloutConfig = RolloutConfig()
    """The sampling engine of every stage that generates."""
    rollouts: RolloutsConfig = RolloutsConfig()
    """Offline sampling (feeds the discriminator)."""
    judge: JudgeConfig = JudgeConfig()
    """Verdicts per (response, item)."""
    discriminator: DiscriminatorConfig = DiscriminatorConfig()
    """Token-level relevance discriminator."""
    grpo: GRPOConfig = GRPOConfig()
    """Online RTT-GRPO policy updates."""
    eval: EvalConfig = EvalConfig()
    """Held-out evaluation."""
    compare: CompareConfig = CompareConfig()
    """Arms of `rtt compare` experiments."""


class ConfigError(ValueError):
    """A preset or override that does not fit the schema; the message names the key."""


def preset_path(name_or_path: str) -> Path:
    """A shipped preset by name (`demo`, `smoke`, `gpu`), or a YAML path."""
    path = Path(name_or_path)
    if path.suffix in (".yaml", ".yml"):
        if not path.exists():
            raise ConfigError(f"config file not found: {path}")
        return path
    shipped = PRESETS_DIR / f"{name_or_path}.yaml"
    if not shipped.exists():
        names = sorted(p.stem for p in PRESETS_DIR.glob("*.yaml"))
        raise ConfigError(f"unknown preset {name_or_path!r}; shipped presets: {names}, or give a .yaml path")
    return shipped


def parse_override(override: str) -> tuple[list[str], object]:
    """`grpo.lr=1e-6` -> (["grpo", "lr"], 1e-6); the value is parsed as YAML (numbers, bools, lists)."""
    key, sep, raw = override.partition("=")
    if not sep or not key.strip():
        raise ConfigError(f"override {override!r} is not of the form key=value")
    return key.strip().split("."), yaml.safe_load(raw)


def apply_override(tree: dict, keys: list[str], value: object) -> None:
    node = tree
    for key in keys[:-1]:
        node = node.setdefault(key, {})
        if not isinstance(node, dict):
            raise ConfigError(f"override key {'.'.join(keys)!r}: {key!r} is not a section")
    node[keys[-1]] = value


def load_config(preset: str = "demo", overrides: list[str] | tuple[str, ...] = ()) -> Config:
    """Load a preset and apply dotted overrides; unknown or mistyped keys raise ConfigError naming them."""
    path = preset_path(preset)
    tree = yaml.safe_load(path.read_text()) or {}
    if not isinstance(tree, dict):
        raise ConfigError(f"{path}: top level must be a mapping")
    return validate(tree, overrides, str(path))


def validate(tree: dict, overrides: list[str] | tuple[str, ...], where: str) -> Config:
    """The config of `tree` with dotted overrides applied; ConfigError naming `where` and each bad key."""
    for override in overrides:
        apply_override(tree, *parse_override(override))
    try:
        return Config.model_validate(tree)
    except ValidationError as err:
        problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in err.errors())
        raise ConfigError(f"{where}: {problems}") from None


def config_dict(cfg: Config) -> dict:
    return cfg.model_dump(mode="json")


def dotted(tree: dict, prefix: str = "") -> dict:
    """A nested dict as one level of dotted keys: {"grpo": {"lr": 1e-6}} -> {"grpo.lr": 1e-6}."""
    out = {}
    for key, value in tree.items():
        if isinstance(value, dict):
            out |= dotted(value, f"{prefix}{key}.")
        else:
            out[f"{prefix}{key}"] = value
    return out


def flat_params(cfg: Config) -> dict[str, str]:
    """The resolved config as dotted keys, for MLflow params."""
    return {k: json.dumps(v) if isinstance(v, list) else str(v) for k, v in dotted(config_dict(cfg)).items()}


def save_config(cfg: Config, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(config_dict(cfg), indent=2) + "\n")
    return path
