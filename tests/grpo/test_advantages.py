"""Tests for rtt.grpo.advantages: worked numbers, the METHOD.md section 4 invariants, the section 10
reshape pitfall, and a slow Python-loop reference compared on random inputs."""

import math

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from rtt.grpo.advantages import (
    TOKEN_NORMS,
    combine_advantages,
    response_advantages,
    response_rewards,
    token_advantages,
)

EPS = 1e-6
close = torch.testing.assert_close


# ---------------------------------------------------------------- slow, obviously-correct reference


def _standardize(values, eps=EPS, unbiased=False):
    """z-scores of a list; fewer than 2 values, or all equal, give zeros."""
    n = len(values)
    if n < 2 or max(values) == min(values):
        return [0.0] * n
    mean = sum(values) / n
    std = math.sqrt(sum((x - mean) ** 2 for x in values) / (n - 1 if unbiased else n))
    return [(x - mean) / (std + eps) for x in values]


def ref_response_rewards(verdicts, mode, weights):
    out = []
    for v_row, w_row in zip(verdicts.tolist(), weights.tolist()):
        known = [(v, w) for v, w in zip(v_row, w_row) if v != 0]
        if not known:
            out.append(0.0)
        elif mode == "all_or_nothing":
            out.append(float(all(v == 1 for v, _ in known)))
        elif mode == "satisfaction_rate":
            out.append(sum(v == 1 for v, _ in known) / len(known))
        else:
            total = sum(w for _, w in known)
            out.append(sum(w for v, w in known if v == 1) / total if total > 0 else 0.0)
    return torch.tensor(out, dtype=torch.float64)


def ref_response_advantages(rewards, G, scale):
    r = rewards.tolist()
    batch_mean = sum(r) / len(r)
    batch_std = math.sqrt(sum((x - batch_mean) ** 2 for x in r) / (len(r) - 1)) if len(r) > 1 else 0.0
    out = []
    for g0 in range(0, len(r), G):
        group = r[g0 : g0 + G]
        if scale == "group":
            out += _standardize(group, unbiased=True)
        elif max(group) == min(group):
            out += [0.0] * G
        else:
            mean = sum(group) / G
            denom = batch_std + EPS if scale == "batch" else 1.0
            out += [(x - mean) / denom for x in group]
    return torch.tensor(out, dtype=torch.float64)


def ref_token_advantages(verdicts, relevance, mask, G, norm):
    """METHOD.md section 4, one response, item and token at a time."""
    v, w, m = verdicts.tolist(), relevance.tolist(), mask.tolist()
    N, K, T = relevance.shape
    valid = [[t for t in range(T) if m[i][t]] for i in range(N)]
    known = [[k for k in range(K) if v[i][k] != 0] for i in range(N)]
    eligible = [bool(known[i]) and len(valid[i]) >= 2 for i in range(N)]
    A = [[0.0] * T for _ in range(N)]
    for g0 in range(0, N, G):
        group = [i for i in range(g0, g0 + G) if eligible[i]]
        if norm == "intra_sample":
            for i in group:
                for k in known[i]:
                    z = _standardize([v[i][k] * w[i][k][t] for t in valid[i]])
                    for t, zt in zip(valid[i], z):
                        A[i][t] += zt / len(known[i])
        elif norm == "inter_sample":
            for k in range(K):
                cells = [(i, t) for i in group if v[i][k] != 0 for t in valid[i]]
                z = _standardize([v[i][k] * w[i][k][t] for i, t in cells])
                for (i, t), zt in zip(cells, z):
                    A[i][t] += zt / len(known[i])
        elif norm == "rubric_mean_group":
            cells = [(i, t) for i in group for t in valid[i]]
            rbar = [sum(v[i][k] * w[i][k][t] for k in known[i]) / len(known[i]) for i, t in cells]
            for (i, t), zt in zip(cells, _standardize(rbar)):
                A[i][t] = zt
        else:  # response_softmax
            a = {}
            for k in range(K):
                judged = [i for i in range(g0, g0 + G) if v[i][k] != 0]
                a.update({(i, k): ai for i, ai in zip(judged, _standardize([v[i][k] for i in judged], unbiased=True))})
            for i in group:
                for t in valid[i]:
                    ex = {k: math.exp(w[i][k][t]) for k in known[i]}
                    A[i][t] = sum(ex[k] / sum(ex.values()) * a[i, k] for k in known[i])
    return torch.tensor(A, dtype=torch.float64).view(N, T)


# ---------------------------------------------------------------- random inputs


@st.composite
def batches(draw, max_k=4, max_t=6):
    """(verdicts [N, K] int, relevance [N, K, T] float64, mask [N, T] bool, G)."""
    B, G = draw(st.integers(1, 3)), draw(st.integers(1, 4))
    K, T = draw(st.integers(0, max_k)), draw(st.integers(1, max_t))
    p_unknown = draw(st.sampled_from([0.0, 0.3, 1.0]))
    coarse = draw(st.booleans())  # relevance in {0, 0.5, 1}: ties and constant rows are common
    gen = torch.Generator().manual_seed(draw(st.integers(0, 2**31 - 1)))
    N = B * G
    signs = torch.where(torch.rand(N, K, generator=gen) < 0.5, 1, -1)
    verdicts = torch.where(torch.rand(N, K, generator=gen) < p_unknown, 0, signs)  # [N, K]
    relevance = torch.rand(N, K, T, generator=gen, dtype=torch.float64)  # [N, K, T]
    if coarse:
        relevance = (relevance * 2).round() / 2
    lengths = torch.randint(0, T + 1, (N,), generator=gen)  # [N]
    mask = torch.arange(T) < lengths[:, None]  # [N, T]
    return verdicts, relevance, mask, G


# ---------------------------------------------------------------- response_rewards

# Rows: all known satisfied (+ padding) | 2 of 3 satisfied | nothing known | all known violated.
VERDICTS = torch.tensor([[1, 1, 0], [1, -1, 1], [0, 0, 0], [-1, -1, 0]])
WEIGHTS = torch.tensor([[2.0, 1, 5], [3, 1, 1], [1, 1, 1], [3, 1, 1]])


def test_response_rewards_all_or_nothing():
    close(response_rewards(VERDICTS, "all_or_nothing"), torch.tensor([1.0, 0, 0, 0]))


def test_response_rewards_satisfaction_rate():
    # 2/2, 2/3, no known item -> 0, 0/2
    close(response_rewards(VERDICTS, "satisfaction_rate"), torch.tensor([1.0, 2 / 3, 0, 0]))


def test_response_rewards_weighted():
    # row 0: (2+1)/(2+1) = 1 (padding weight 5 ignored); row 1: (3+1)/(3+1+1) = 0.8; row 3: 0/(3+1)
    close(response_rewards(VERDICTS, "weighted", WEIGHTS), torch.tensor([1.0, 0.8, 0, 0]))


@settings(max_examples=50, deadline=None)
@given(batches(), st.sampled_from(["all_or_nothing", "satisfaction_rate", "weighted"]))
def test_response_rewards_match_reference(batch, mode):
    verdicts, relevance, _, _ = batch
    weights = relevance[..., 0] * 3 if relevance.shape[1] else torch.ones(verdicts.shape, dtype=torch.float64)  # [N, K]
    got = response_rewards(verdicts, mode, weights)
    close(got.double(), ref_response_rewards(verdicts, mode, weights), atol=1e-6, rtol=1e-6)


# ---------------------------------------------------------------- response_advantages

REWARDS = torch.tensor([1.0, 0, 1, 1])


def test_response_advantages_group():
    # G=2. Group [1, 0]: mean 0.5, unbiased std sqrt((0.25 + 0.25) / 1) = 0.70711,
    # A = +-0.5 / (0.70711 + 1e-6) = +-0.70711. Group [1, 1]: equal rewards -> 0.
    a = 0.5 / (math.sqrt(0.5) + EPS)
    close(response_advantages(REWARDS, 2), torch.tensor([a, -a, 0, 0]))


def test_response_advantages_batch():
    # Batch std of [1, 0, 1, 1]: mean 0.75, squares 0.0625 + 0.5625 + 0.0625 + 0.0625 = 0.75,
    # / 3 = 0.25, std 0.5. Numerators stay group-centred: [0.5, -0.5, 0, 0] / (0.5 + 1e-6).
    a = 0.5 / (0.5 + EPS)
    close(response_advantages(REWARDS, 2, scale="batch"), torch.tensor([a, -a, 0, 0]))


def test_response_advantages_none():
    close(response_advantages(REWARDS, 2, scale="none"), torch.tensor([0.5, -0.5, 0, 0]))


def test_response_advantages_one_group_and_singletons():
    # G=4: mean 0.75, unbiased std 0.5 -> [0.25, -0.75, 0.25, 0.25] / 0.5. G=1: all 0, no NaN.
    close(response_advantages(REWARDS, 4), torch.tensor([0.25, -0.75, 0.25, 0.25]) / (0.5 + EPS))
    assert torch.equal(response_advantages(REWARDS, 1), torch.zeros(4))


def test_response_advantages_equal_rewards_exactly_zero():
    # 0.1 * 8 summed in float32 does not divide back to exactly 0.1; the result must still be 0.
    assert torch.equal(response_advantages(torch.full((8,), 0.1), 8), torch.zeros(8))


@settings(max_examples=50, deadline=None)
@given(batches(), st.sampled_from(["group", "batch", "none"]))
def test_response_advantages_match_reference(batch, scale):
    verdicts, _, _, G = batch
    rewards = response_rewards(verdicts, "satisfaction_rate").double()  # [N]
    close(response_advantages(rewards, G, scale), ref_response_advantages(rewards, G, scale), atol=1e-9, rtol=1e-9)


# ---------------------------------------------------------------- token_advantages: worked numbers

# One group of G=2, K=2 items, T=3 tokens.
# Response 0: item 0 satisfied with relevance [1, 0, 0], item 1 violated with relevance [0, 0, 1].
# Response 1: item 0 satisfied with relevance [1, 0, (0.7 on padding)], item 1 unknown; 2 valid tokens.
TOK_VERDICTS = torch.tensor([[1, -1], [1, 0]])
TOK_RELEVANCE = torch.tensor([[[1.0, 0, 0], [0, 0, 1]], [[1, 0, 0.7], [0.3, 0.3, 0.3]]])
TOK_MASK = torch.tensor([[True, True, True], [True, True, False]])
R2 = math.sqrt(2)


def test_token_advantages_intra_sample():
    # Resp 0, item 0: r = [1, 0, 0], mean 1/3, population std sqrt(2)/3 -> z = [sqrt2, -1/sqrt2, -1/sqrt2].
    #         item 1: r = [0, 0, -1] -> z = [1/sqrt2, 1/sqrt2, -sqrt2]. Mean over 2 items:
    #         [(sqrt2 + 1/sqrt2)/2, 0, -(sqrt2 + 1/sqrt2)/2] = [1.06066, 0, -1.06066].
    # Resp 1, item 0 only: r = [1, 0], mean 0.5, std 0.5 -> z = [1, -1] (std + eps); padding 0.
    got = token_advantages(TOK_VERDICTS, TOK_RELEVANCE, TOK_MASK, 2, "intra_sample")
    c = (R2 + 1 / R2) / 2
    close(got, torch.tensor([[c, 0, -c], [1, -1, 0]]), atol=1e-5, rtol=0)


def test_token_advantages_inter_sample():
    # Item 0 pooled over the group's tokens: [1, 0, 0 | 1, 0], mean 0.4, population std sqrt(0.24):
    #   z(1) = 0.6 / 0.4899 = 1.224745, z(0) = -0.4 / 0.4899 = -0.816497.
    # Item 1 known for response 0 only: [0, 0, -1] -> [0.707107, 0.707107, -1.414214].
    # Resp 0 = mean of both items; resp 1 = item 0 alone.
    got = token_advantages(TOK_VERDICTS, TOK_RELEVANCE, TOK_MASK, 2, "inter_sample")
    hi, lo = 0.6 / math.sqrt(0.24), -0.4 / math.sqrt(0.24)
    want = torch.tensor([[(hi + 1 / R2) / 2, (lo + 1 / R2) / 2, (lo - R2) / 2], [hi, lo, 0]])
    close(got, want, atol=1e-5, rtol=0)


def test_token_advantages_rubric_mean_group():
    # rbar resp 0 = mean of items 0, 1 = [0.5, 0, -0.5]; resp 1 = item 0 only = [1, 0].
    # Pooled [0.5, 0, -0.5, 1, 0]: mean 0.2, squares 0.09 + 0.04 + 0.49 + 0.64 + 0.04 = 1.3,
    # population std sqrt(0.26) = 0.509902 -> z = [0.588348, -0.392232, -1.372813 | 1.568929, -0.392232].
    got = token_advantages(TOK_VERDICTS, TOK_RELEVANCE, TOK_MASK, 2, "rubric_mean_group")
    sd = math.sqrt(0.26)
    close(got, torch.tensor([[0.3, -0.2, -0.7], [0.8, -0.2, 0.2]]) / sd * TOK_MASK, atol=1e-5, rtol=0)


def test_token_advantages_response_softmax():
    # Verdicts [[1, -1], [-1, -1]]. Item 0: [1, -1], mean 0, unbiased std sqrt(2) -> a = +-0.707107.
    # Item 1: [-1, -1] equal -> a = 0. So A(i, t) = pi_{i,0,t} * a_{i,0}, pi = softmax over items:
    # resp 0: w_0 = [1, 0, 0], w_1 = [0, 0, 1] -> pi_0 = [e/(e+1), 1/2, 1/(1+e)] = [0.731059, 0.5, 0.268941].
    # resp 1: w_0 = [1, 0, pad], w_1 = [0, 0, pad] -> pi_0 = [0.731059, 0.5].
    verdicts = torch.tensor([[1, -1], [-1, -1]])
    relevance = TOK_RELEVANCE.clone()
    relevance[1, 1] = 0
    got = token_advantages(verdicts, relevance, TOK_MASK, 2, "response_softmax")
    e = math.e / (math.e + 1)
    close(got, torch.tensor([[e, 0.5, 1 - e], [-e, -0.5, 0]]) / R2, atol=1e-5, rtol=0)


@pytest.mark.parametrize("norm", TOKEN_NORMS)
def test_token_advantages_degenerate_rows_are_zero(norm):
    # Response 0 has no known item, response 1 a single valid token, response 2 is all padding.
    verdicts = torch.tensor([[0, 0], [1, -1], [1, 1]])
    mask = torch.tensor([[True, True], [True, False], [False, False]])
    got = token_advantages(verdicts, torch.rand(3, 2, 2), mask, 3, norm)
    assert torch.equal(got, torch.zeros(3, 2))
    empty = token_advantages(torch.zeros(4, 0), torch.zeros(4, 0, 3), torch.ones(4, 3, dtype=torch.bool), 2, norm)
    assert torch.equal(empty, torch.zeros(4, 3))  # K = 0


# ---------------------------------------------------------------- token_advantages vs the reference


@settings(max_examples=50, deadline=None)
@given(batches(), st.sampled_from(TOKEN_NORMS))
def test_token_advantages_match_reference(batch, norm):
    verdicts, relevance, mask, G = batch
    got = token_advantages(verdicts, relevance, mask, G, norm)
    close(got, ref_token_advantages(verdicts, relevance, mask, G, norm), atol=1e-9, rtol=1e-7)


# ---------------------------------------------------------------- section 4 invariants


@settings(max_examples=50, deadline=None)
@given(batches())
def test_intra_sample_zero_mean_per_response(batch):
    verdicts, relevance, mask, G = batch
    adv = token_advantages(verdicts, relevance, mask, G)  # [N, T]
    row_mean = (adv * mask).sum(1) / mask.sum(1).clamp_min(1)  # [N]
    close(row_mean, torch.zeros_like(row_mean), atol=1e-9, rtol=0)


@settings(max_examples=50, deadline=None)
@given(batches(), st.sampled_from(TOKEN_NORMS), st.sampled_from([torch.float32, torch.float64]))
def test_everything_finite(batch, norm, dtype):
    verdicts, relevance, mask, G = batch
    tok = token_advantages(verdicts, relevance.to(dtype), mask, G, norm)
    res = response_advantages(response_rewards(verdicts, "all_or_nothing"), G)
    for scale in ("group", "batch", "none"):
        assert torch.isfinite(response_advantages(response_rewards(verdicts, "weighted"), G, scale)).all()
    for method in ("add", "mix"):
        assert torch.isfinite(combine_advantages(res, tok, mask, method)).all()
    assert torch.isfinite(tok).all()


@settings(max_examples=50, deadline=None)
@given(batches())
def test_intra_sample_uniform_relevance_gives_zero(batch):
    verdicts, relevance, mask, G = batch
    uniform = relevance[..., :1].expand_as(relevance)  # [N, K, T], each row constant
    assert torch.equal(token_advantages(verdicts, uniform, mask, G), torch.zeros(mask.shape, dtype=relevance.dtype))


@settings(max_examples=50, deadline=None)
@given(batches(), st.sampled_from(TOKEN_NORMS), st.sampled_from(["add", "mix"]))
def test_weight_zero_is_plain_grpo(batch, norm, method):
    verdicts, relevance, mask, G = batch
    res = response_advantages(response_rewards(verdicts, "all_or_nothing").double(), G)  # [N]
    tok = token_advantages(verdicts, relevance, mask, G, norm)  # [N, T]
    got = combine_advantages(res, tok, mask, method, weight=0.0)
    assert torch.equal(got, torch.where(mask, res[:, None], 0.0))


@settings(max_examples=50, deadline=None)
@given(st.integers(2, 6), st.integers(2, 8), st.integers(0, 2**31 - 1))
def test_equal_group_rewards_keep_token_signal(G, T, seed):
    # Every response satisfies its single item: A_res = 0, yet intra_sample credits tokens unevenly.
    relevance = torch.rand(G, 1, T, generator=torch.Generator().manual_seed(seed), dtype=torch.float64)
    verdicts, mask = torch.ones(G, 1), torch.ones(G, T, dtype=torch.bool)
    assert torch.equal(response_advantages(response_rewards(verdicts, "all_or_nothing"), G), torch.zeros(G))
    tok = token_advantages(verdicts, relevance, mask, G)
    assert (tok.abs().sum(1) > 0).all()


@settings(max_examples=50, deadline=None)
@given(batches(), st.sampled_from(TOKEN_NORMS), st.randoms())
def test_item_order_and_response_order_do_not_matter(batch, norm, rnd):
    verdicts, relevance, mask, G = batch
    N, K, _ = relevance.shape
    items = torch.tensor(rnd.sample(range(K), K), dtype=torch.long)  # same item permutation for all
    within = torch.cat([g0 + torch.tensor(rnd.sample(range(G), G)) for g0 in range(0, N, G)])  # per group
    base = token_advantages(verdicts, relevance, mask, G, norm)
    permuted = token_advantages(verdicts[within][:, items], relevance[within][:, items], mask[within], G, norm)
    close(permuted, base[within], atol=1e-9, rtol=1e-7)


# ---------------------------------------------------------------- section 10: reshape vs transpose


def _tagged(G=3, K=2, T=4):
    """Row (i, k) is a one-hot at token (i + 2k) % T: every (response, item) row is different."""
    relevance = torch.zeros(G, K, T, dtype=torch.float64)
    for i in range(G):
        for k in range(K):
            relevance[i, k, (i + 2 * k) % T] = 1
    verdicts = torch.tensor([[1, -1], [-1, 1], [1, 1]])[:G, :K]
    return verdicts, relevance, torch.ones(G, T, dtype=torch.bool)


def test_tags_would_expose_a_reshape():
    _, relevance, _ = _tagged()
    assert not torch.equal(relevance.reshape(2, 3, 4), relevance.transpose(0, 1))


def test_intra_sample_reads_only_own_rows():
    verdicts, relevance, mask = _tagged()
    full = token_advantages(verdicts, relevance, mask, 3)
    for j in range(3):
        alone = token_advantages(verdicts[j : j + 1], relevance[j : j + 1], mask[j : j + 1], 1)
        close(full[j], alone[0])
    changed = relevance.clone()
    changed[2] = torch.rand(2, 4, dtype=torch.float64)  # rewrite response 2's rows only
    again = token_advantages(verdicts, changed, mask, 3)
    close(again[:2], full[:2])
    assert not torch.equal(again[2], full[2])


def test_inter_sample_matches_per_item_loop_on_tagged_rows():
    verdicts, relevance, mask = _tagged()
    got = token_advantages(verdicts, relevance, mask, 3, "inter_sample")
    # Per item k, z-score the stacked rows r[:, k, :] of all 3 responses, then average over items.
    want = torch.zeros(3, 4, dtype=torch.float64)
    for k in range(2):
        r = verdicts[:, k, None] * relevance[:, k, :]  # [G, T]
        want += (r - r.mean()) / (r.std(correction=0) + EPS) / 2
    close(got, want)


# ---------------------------------------------------------------- combine_advantages


def test_combine_add_and_mix():
    res = torch.tensor([1.0, -0.5])
    tok = torch.tensor([[0.2, -0.2, 7.0], [0.4, 0.0, 9.0]])
    mask = torch.tensor([[True, True, False], [True, True, True]])
    # add: A_res + 0.5 A_tok; mix: 0.5 A_res + 0.5 A_tok; padding -> 0.
    close(combine_advantages(res, tok, mask, "add"), torch.tensor([[1.1, 0.9, 0], [-0.3, -0.5, 4.0]]))
    close(combine_advantages(res, tok, mask, "mix"), torch.tensor([[0.6, 0.4, 0], [-0.05, -0.25, 4.25]]))
    # mix with weight 0.25: 0.75 A_res + 0.25 A_tok.
    close(combine_advantages(res, tok, mask, "mix", 0.25), torch.tensor([[0.8, 0.7, 0], [-0.275, -0.375, 1.875]]))


# ---------------------------------------------------------------- invalid input


def test_invalid_inputs_name_the_argument():
    v, w, m = TOK_VERDICTS, TOK_RELEVANCE, TOK_MASK
    with pytest.raises(ValueError, match="relevance"):
        token_advantages(v, w * 2, m, 2)
    with pytest.raises(ValueError, match="relevance"):
        token_advantages(v, w[:, :1], m, 2)
    with pytest.raises(ValueError, match="response_mask"):
        token_advantages(v, w, m[:, :2], 2)
    with pytest.raises(ValueError, match="group_size"):
        token_advantages(v, w, m, 3)
    with pytest.raises(ValueError, match="group_size"):
        response_advantages(REWARDS, 0)
    with pytest.raises(ValueError, match="norm"):
        token_advantages(v, w, m, 2, "per_token")
    with pytest.raises(ValueError, match="verdicts"):
        token_advantages(v * 2, w, m, 2)
    with pytest.raises(ValueError, match="verdicts"):
        response_rewards(torch.tensor([[0.5]]), "all_or_nothing")
    with pytest.raises(ValueError, match="mode"):
        response_rewards(v, "majority")
    with pytest.raises(ValueError, match="item_weights"):
        response_rewards(v, "weighted", torch.ones(3, 2))
    with pytest.raises(ValueError, match="scale"):
        response_advantages(REWARDS, 2, "global")
    with pytest.raises(ValueError, match="rewards"):
        response_advantages(REWARDS[None], 2)
    with pytest.raises(ValueError, match="method"):
        combine_advantages(torch.zeros(2), torch.zeros(2, 3), m, "multiply")
    with pytest.raises(ValueError, match="response_adv"):
        combine_advantages(torch.zeros(3), torch.zeros(2, 3), m)
