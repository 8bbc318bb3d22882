"""Batched sampling with transformers `generate`, keeping token ids and their logprobs.

Each prompt is rendered with the policy's chat template; G samples per prompt are generated in
left-padded batches. A response is the generated ids up to and including the first EOS (or
`max_new_tokens` ids when it was cut). `logprobs[t]` is log softmax(logits / temperature) of the
generated token t, the quantity the PPO ratio compares against (top-p only filters which token is
drawn; it does not change the recorded logprob, as in verl and TRL).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from tqdm.auto import tqdm

from rtt.detokenize import decode_with_offsets


@dataclass
class Sample:
    prompt_index: int
    sample_index: int
    prompt_token_ids: list[int]
    token_ids: list[int]
    logprobs: list[float]
    text: str
    offsets: list[tuple[int, int]]
    finished: bool


def prompt_token_ids(tokenizer, prompt: str | list[dict]) -> list[int]:
    """The chat-templated ids of a user message, or of a whole conversation (a list of messages)."""
    messages = [{"role": "user", "content": prompt}] if isinstance(prompt, str) else prompt
    text = tokenizer.apply_chat_template(messages, add_generation_prompt=True, tokenize=False)
    return tokenizer(text, add_special_tokens=False)["input_ids"]


def make_sample(
    tokenizer, prompt_index: int, sample_index: int, prompt_ids: list[int], generated: list[int], logprobs: list[float]
) -> Sample:
    """A `Sample` of generated ids: cut after the first EOS (finished) or kept whole (cut at the
    length limit), logprobs cut alike, decoded with per-token character offsets."""
    eos = tokenizer.eos_token_id
    finished = eos in generated
    length = generated.index(eos) + 1 if finished else len(generated)
    tokens = generated[:length]
    text, offsets = decode_with_offsets(tokenizer, tokens)
    return Sample(prompt_index, sample_index, prompt_ids, tokens, logprobs[:length], text, offsets, finished)


def left_pad(rows: list[list[int]], pad_id: int) -> tuple[torch.Tensor, torch.Tensor]:
    width = max(map(len, rows))
    ids = torch.full((len(rows), width), pad_id, dtype=torch.long)  # [n, L]
    mask = torch.zeros((len(rows), width), dtype=torch.long)  # [n, L]
    for i, row in enumerate(rows):
        ids[i, width - len(row) :] = torch.tensor(row, dtype=torch.long)
        mask[i, width - len(row) :] = 1
    return ids, mask


@torch.no_grad()
def sample(
    model,
    tokenizer,
    prompts: list[str | list[dict]],
    n: int,
    max_new_tokens: int,
    temperature: float = 1.0,
    top_p: float = 1.0,
    batch_size: int = 32,
    seed: int = 0,
    greedy: bool = False,
    desc: str = "sampling",
    logprobs: bool = True,
) -> list[Sample]:
    """`n` responses per prompt, ordered prompt-major (the G samples of a prompt are consecutive).
    logprobs=False (evaluation) keeps no per-step logits: `generate` would otherwise hold
    [steps, n, vocab] floats (3.2 GB for 32 x 512 tokens of SmolLM2), and Sample.logprobs is empty."""
    model.eval()
    device = next(model.parameters()).device
    eos = tokenizer.eos_token_id
    encoded = [prompt_token_ids(tokenizer, p) for p in prompts]
    jobs = [(p, s) for p in range(len(prompts)) for s in range(n)]
    generator_seed = torch.Generator().manual_seed(seed)
    samples: list[Sample] = []
    bar = tqdm(total=len(jobs), desc=desc, unit="seq", leave=False)
    for start in range(0, len(jobs), batch_size):
        chunk = jobs[start : start + batch_size]
        ids, mask = left_pad([encoded[p] for p, _ in chunk], tokenizer.pad_token_id)
        torch.manual_seed(int(torch.randint(0, 2**31 - 1, (1,), generator=generator_seed)))
        out = model.generate(
            input_ids=ids.to(device),
            attention_mask=mask.to(device),
            max_new_tokens=max_new_tokens,
            do_sample=not greedy,
            temperature=temperature if not greedy else None,
            top_p=top_p if not greedy else None,
            top_k=0 if not greedy else None,
            pad_token_id=tokenizer.pad_token_id,
            eos_token_id=eos,
            return_dict_in_generate=True,
            output_logits=logprobs,
        )
        generated = out.sequences[:, ids.shape[1] :]  # [n, T_gen]
        scale = 1.0 if greedy else temperature
        logp = (
            torch.stack(
                [  # one step at a time: never materializes [n, T_gen, V]
                    torch.log_softmax(step.float() / scale, dim=-1).gather(-1, generated[:, t, None]).squeeze(-1)  # [n]
                    for t, step in enumerate(out.logits)
                ],
                dim=1,
            ).cpu()
            if logprobs
            else torch.zeros(generated.shape[0], 0)
        )  # [n, T_gen] or [n, 0]
        generated = generated.cpu()
        samples += [
            make_sample(tokenizer, p, s, encoded[p], generated[row].tolist(), logp[row].tolist())
            for row, (p, s) in enumerate(chunk)
        ]
        bar.update(len(chunk))
    bar.close()
    return samples
