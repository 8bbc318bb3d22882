"""The empty answer earns nothing: one group through the real judge, advantages and one policy update.

One prompt, G = 4 responses of the tiny tokenizer (each ends with EOS), K = 2 negative items:
"no commas" and "do not use the word cake". Response 3 is EOS alone (text ""). The pure checker
passes both items on it, as IFEval's `check_following` does, so a judge without the empty-response
rule gave it the group's top reward; the judge (`rtt.judge.rule`) fails it on both.
"""

from __future__ import annotations

import math

import pytest
import torch

from rtt.config import GRPOConfig
from rtt.constraints import check
from rtt.data.items import RubricItem
from rtt.detokenize import decode_with_offsets
from rtt.grpo.advantages import combine_advantages, response_advantages, response_rewards, token_advantages
from rtt.grpo.logprobs import pack
from rtt.grpo.trainer import PolicyTrainer
from rtt.judge.rule import EMPTY, verdict_row
from rtt.models import load_causal_lm, load_tokenizer

PROMPT = "Write one line about tea."
TEXTS = ["Tea then pie.", "Tea, then pie.", "Tea then cake.", ""]
ITEMS = [
    RubricItem("i0", "p0", 0, "No commas.", 1.0, "rule", "punctuation:no_comma", {}),
    RubricItem(
        "i1",
        "p0",
        1,
        "Do not use the word cake.",
        1.0,
        "rule",
        "keywords:forbidden_words",
        {"forbidden_words": ["cake"]},
    ),
]
G = 4


def judged_group(tokenizer):
    """(response token ids per response, verdicts [N, K], gold token labels [N, K, T], verdict rows)."""
    responses = [tokenizer(t, add_special_tokens=False)["input_ids"] + [tokenizer.eos_token_id] for t in TEXTS]
    rows = []
    for i, ids in enumerate(responses):
        text, offsets = decode_with_offsets(tokenizer, ids)
        assert text == TEXTS[i]
        rows.append([verdict_row("run", 0, 0, f"r{i}", item, text, offsets, PROMPT) for item in ITEMS])
    t = max(map(len, responses))
    verdicts = torch.tensor([[r["verdict"] for r in rs] for rs in rows])  # [N, K]
    gold = torch.zeros(len(responses), len(ITEMS), t)  # [N, K, T]
    for i, rs in enumerate(rows):
        for k, r in enumerate(rs):
            gold[i, k, : len(r["token_labels"])] = torch.tensor(r["token_labels"], dtype=torch.float)
    return responses, verdicts, gold, rows


def checker_only_verdicts() -> torch.Tensor:
    """[N, K] verdicts of a judge without the empty-response rule (the checker's pass/fail alone)."""
    return torch.tensor([[1 if check(item.checker, item.kwargs, t).passed else -1 for item in ITEMS] for t in TEXTS])


def test_the_empty_response_gets_reward_0_and_a_negative_advantage(tiny_tokenizer):
    responses, verdicts, gold, rows = judged_group(tiny_tokenizer)
    assert responses[3] == [tiny_tokenizer.eos_token_id]
    assert verdicts.tolist() == [[1, 1], [-1, 1], [1, -1], [-1, -1]]
    assert [r["reason"] for r in rows[3]] == [EMPTY, EMPTY] and gold[3, :, 0].tolist() == [1.0, 1.0]  # EOS marked
    before = checker_only_verdicts()
    assert before.tolist() == [[1, 1], [-1, 1], [1, -1], [1, 1]]  # the hole: the empty answer passed both

    # all-or-nothing: [1, 0, 0, 0], mean 1/4, centred [3/4, -1/4, -1/4, -1/4], unbiased std
    # sqrt((9 + 1 + 1 + 1) / 16 / 3) = 1/2 -> A = [1.5, -0.5, -0.5, -0.5].
    # Before: [1, 0, 0, 1], centred +-1/2, std sqrt(1/3) -> A = +-sqrt(3)/2, the empty one +0.866 (the top).
    aon = response_rewards(verdicts, "all_or_nothing")
    assert aon.tolist() == [1, 0, 0, 0]
    assert response_advantages(aon, G).tolist() == pytest.approx([1.5, -0.5, -0.5, -0.5], abs=1e-5)
    aon_before = response_rewards(before, "all_or_nothing")
    assert aon_before.tolist() == [1, 0, 0, 1]
    assert response_advantages(aon_before, G)[3] == pytest.approx(math.sqrt(3) / 2, abs=1e-5)

    # satisfaction rate: [1, 1/2, 1/2, 0], centred [1/2, 0, 0, -1/2], std sqrt((1/4 + 1/4) / 3) = sqrt(1/6)
    # -> A = [sqrt(3/2), 0, 0, -sqrt(3/2)]. Before: [1, 1/2, 1/2, 1], centred +-1/4, std sqrt(1/12) -> the
    # empty one +sqrt(3)/2, tied with response 0 for the top.
    csr = response_rewards(verdicts, "satisfaction_rate")
    assert csr.tolist() == [1, 0.5, 0.5, 0]
    adv_res = response_advantages(csr, G)
    assert adv_res.tolist() == pytest.approx([math.sqrt(1.5), 0, 0, -math.sqrt(1.5)], abs=1e-5)
    csr_before = response_rewards(before, "satisfaction_rate")
    assert csr_before.tolist() == [1, 0.5, 0.5, 1]
    assert response_advantages(csr_before, G).tolist() == pytest.approx(
        [math.sqrt(3) / 2, -math.sqrt(3) / 2, -math.sqrt(3) / 2, math.sqrt(3) / 2], abs=1e-5
    )

    # token advantage: the EOS-only response has fewer than 2 tokens -> A_tok = 0; so A = A_res on its token
    mask = pack([[0]] * G, responses, 0).response_mask  # [N, T]
    adv_tok = token_advantages(verdicts, gold, mask, G)  # [N, T]
    assert adv_tok[3].abs().sum() == 0
    adv = combine_advantages(adv_res, adv_tok, mask, "add", 0.5)  # [N, T]
    assert adv[3, 0] == pytest.approx(-math.sqrt(1.5), abs=1e-5) and adv[3, 1:].abs().sum() == 0  # the rest is padding


def test_one_update_makes_the_empty_answer_less_likely(tiny_model_dir):
    torch.manual_seed(0)
    tokenizer = load_tokenizer(tiny_model_dir)
    model = load_causal_lm(tiny_model_dir, torch.device("cpu"))
    responses, verdicts, gold, _ = judged_group(tokenizer)
    prompt = tokenizer(PROMPT, add_special_tokens=False)["input_ids"]
    batch = pack([prompt] * G, responses, tokenizer.pad_token_id)
    adv_res = response_advantages(response_rewards(verdicts, "satisfaction_rate"), G)  # [N]
    adv = combine_advantages(
        adv_res, token_advantages(verdicts, gold, batch.response_mask, G), batch.response_mask, "add", 0.5
    )  # [N, T]
    cfg = GRPOConfig(lr=1e-2, group_size=G, updates_per_batch=1, micro_batch_size=G, max_new_tokens=8)
    trainer = PolicyTrainer(model, cfg, torch.device("cpu"))
    before = trainer.logprobs(model, batch)  # [N, T]
    trainer.update(batch, adv)
    after = trainer.logprobs(model, batch)  # [N, T]
    # EOS right after the prompt: down (by 0.16-0.37 on tiny models of seeds 0-9, 10 of 10)
    assert after[3, 0] < before[3, 0] - 0.05, (before[3, 0], after[3, 0])
    assert after[0][batch.response_mask[0]].sum() > before[0][batch.response_mask[0]].sum()  # the best one: up
