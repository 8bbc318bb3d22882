"""Logits at the response positions only give the numbers of the full forward, and their gradients."""

from __future__ import annotations

import pytest
import torch

from rtt.grpo.logprobs import pack, token_logprobs
from rtt.models import load_causal_lm

PROMPTS = [[1, 5, 9, 14, 20, 33], [1, 7, 8], [1, 40, 41, 42, 43]]  # ragged prompts ...
RESPONSES = [[50, 51, 52], [60, 61, 62, 63, 2], [70]]  # ... and responses: every row padded differently


@pytest.fixture
def model(tiny_model_dir):
    torch.manual_seed(0)
    return load_causal_lm(tiny_model_dir, torch.device("cpu"))


@pytest.fixture
def batch(tiny_tokenizer):
    return pack(PROMPTS, RESPONSES, tiny_tokenizer.pad_token_id)


@pytest.mark.parametrize("temperature", [1.0, 0.7])
def test_response_only_logits_equal_the_full_forward(model, batch, temperature):
    with torch.no_grad():
        full, full_entropy = token_logprobs(model, batch, temperature, with_entropy=True, response_only=False)  # [N, T]
        fast, fast_entropy = token_logprobs(model, batch, temperature, with_entropy=True)  # [N, T]
    mask = batch.response_mask
    assert fast.shape == full.shape == mask.shape == (3, 5)
    assert torch.allclose(fast[mask], full[mask], atol=1e-6)
    assert torch.allclose(fast_entropy[mask], full_entropy[mask], atol=1e-6)


@pytest.mark.parametrize("temperature", [1.0, 0.7])
def test_response_only_gradients_equal_the_full_forward(model, batch, temperature):
    def grads(response_only: bool) -> dict[str, torch.Tensor]:
        model.zero_grad(set_to_none=True)
        logp, entropy = token_logprobs(model, batch, temperature, with_entropy=True, response_only=response_only)
        mask = batch.response_mask
        (logp[mask].sum() + 0.1 * entropy[mask].sum()).backward()
        return {name: p.grad.clone() for name, p in model.named_parameters()}

    full, fast = grads(False), grads(True)
    assert full.keys() == fast.keys() and len(full) > 0
    for name in full:
        assert torch.allclose(fast[name], full[name], atol=1e-6), name


def test_the_head_sees_only_the_response_positions(model, batch):
    """[N, T, H] reaches the LM head instead of [N, L, H]: the prompt's logits are never computed."""
    seen = []
    hook = model.get_output_embeddings().register_forward_hook(lambda module, args, out: seen.append(tuple(out.shape)))
    with torch.no_grad():
        token_logprobs(model, batch)
        token_logprobs(model, batch, response_only=False)
    hook.remove()
    n, length = batch.input_ids.shape
    assert seen == [(n, 5, model.config.vocab_size), (n, length, model.config.vocab_size)]


class Wrapped(torch.nn.Module):
    """A causal LM behind a plain module (no transformers config): it only has a forward."""

    def __init__(self, lm):
        super().__init__()
        self.lm = lm

    def forward(self, **inputs):
        return self.lm(**inputs)


def test_a_model_without_a_known_head_takes_the_full_forward(model, batch):
    with torch.no_grad():
        expected, _ = token_logprobs(model, batch, response_only=False)  # [N, T]
        logp, _ = token_logprobs(Wrapped(model), batch)  # [N, T]
    assert torch.equal(logp, expected)
