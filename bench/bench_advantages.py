"""Time the vectorized RTT advantages against a straightforward Python-loop reference, on CPU.

    python bench/bench_advantages.py [--out bench/results/advantages.json] [--threads 4]

Shapes: B prompts x G responses = N, K rubric items (padded per prompt), T response tokens. The loop
reference walks groups, responses and items in Python with torch ops on each row; it runs on the
first --ref-groups groups only and its time is extrapolated linearly to all B groups (the JSON says
so), and its output on that subset is compared with the vectorized one (max_abs_diff).
"""

import argparse
import json
import statistics
import time
from pathlib import Path

import torch

from rtt.grpo.advantages import TOKEN_NORMS, response_advantages, response_rewards, token_advantages

EPS = 1e-6


def make_batch(B, G, K, T, seed=0):
    """Random verdicts [N, K] (10% unknown, prompts with 10..K items), relevance [N, K, T], mask [N, T]."""
    gen = torch.Generator().manual_seed(seed)
    N = B * G
    items = torch.randint(10, K + 1, (B,), generator=gen).repeat_interleave(G)  # [N] items per prompt
    signs = torch.where(torch.rand(N, K, generator=gen) < 0.6, 1, -1)  # [N, K]
    known = (torch.rand(N, K, generator=gen) > 0.1) & (torch.arange(K) < items[:, None])  # [N, K]
    verdicts = torch.where(known, signs, 0)  # [N, K]
    relevance = torch.rand(N, K, T, generator=gen)  # [N, K, T]
    lengths = torch.randint(64, T + 1, (N,), generator=gen)  # [N]
    mask = torch.arange(T) < lengths[:, None]  # [N, T]
    return verdicts, relevance, mask


def _z(x, unbiased=False):
    """z-score of a 1-D tensor; fewer than 2 values, or all equal, give zeros."""
    if x.numel() < 2 or x.max() == x.min():
        return torch.zeros_like(x)
    return (x - x.mean()) / (x.std(correction=int(unbiased)) + EPS)


def loop_token_advantages(verdicts, relevance, mask, G, norm):
    """METHOD.md section 4 with Python loops over groups, responses and items."""
    N, K, T = relevance.shape
    out = torch.zeros(N, T)
    for g0 in range(0, N, G):
        members = range(g0, g0 + G)
        valid = {i: mask[i].nonzero().squeeze(1) for i in members}
        known = {i: (verdicts[i] != 0).nonzero().squeeze(1) for i in members}
        eligible = [i for i in members if len(known[i]) and len(valid[i]) >= 2]
        if norm == "intra_sample":
            for i in eligible:
                for k in known[i].tolist():
                    out[i, valid[i]] += _z(verdicts[i, k] * relevance[i, k, valid[i]]) / len(known[i])
        elif norm == "inter_sample":
            for k in range(K):
                rows = [i for i in eligible if verdicts[i, k] != 0]
                if not rows:
                    continue
                z = _z(torch.cat([verdicts[i, k] * relevance[i, k, valid[i]] for i in rows]))
                for i, zi in zip(rows, z.split([len(valid[i]) for i in rows])):
                    out[i, valid[i]] += zi / len(known[i])
        elif norm == "rubric_mean_group":
            if not eligible:
                continue
            rbar = [(verdicts[i, known[i], None] * relevance[i, known[i]][:, valid[i]]).mean(0) for i in eligible]
            z = _z(torch.cat(rbar))
            for i, zi in zip(eligible, z.split([len(valid[i]) for i in eligible])):
                out[i, valid[i]] = zi
        else:  # response_softmax
            a = torch.zeros(G, K)
            for k in range(K):
                judged = [j for j in range(G) if verdicts[g0 + j, k] != 0]
                a[judged, k] = _z(verdicts[[g0 + j for j in judged], k].float(), unbiased=True)
            for i in eligible:
                share = relevance[i, known[i]][:, valid[i]].softmax(0)  # [K_known, T_i]
                out[i, valid[i]] = (share * a[i - g0, known[i], None]).sum(0)
    return out


def loop_response_advantages(rewards, G):
    return torch.cat([_z(rewards[g0 : g0 + G], unbiased=True) for g0 in range(0, len(rewards), G)])


def median_time(fn, repeats):
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="bench/results/advantages.json")
    parser.add_argument("--threads", type=int, default=torch.get_num_threads())
    parser.add_argument("--B", type=int, default=64)
    parser.add_argument("--G", type=int, default=8)
    parser.add_argument("--K", type=int, default=20)
    parser.add_argument("--T", type=int, default=1024)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--ref-groups", type=int, default=4, help="groups the loop reference runs on")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    B, G, K, T = args.B, args.G, args.K, args.T
    verdicts, relevance, mask = make_batch(B, G, K, T)
    n_ref = args.ref_groups * G
    sub = verdicts[:n_ref], relevance[:n_ref], mask[:n_ref]
    rewards = response_rewards(verdicts, "all_or_nothing")  # [N]

    cases = {
        f"token_advantages/{norm}": (
            lambda norm=norm: token_advantages(verdicts, relevance, mask, G, norm),
            lambda norm=norm: loop_token_advantages(*sub, G, norm),
            lambda norm=norm: (
                (token_advantages(*sub, G, norm) - loop_token_advantages(*sub, G, norm)).abs().max().item()
            ),
        )
        for norm in TOKEN_NORMS
    }
    cases["response_advantages"] = (
        lambda: response_advantages(rewards, G),
        lambda: loop_response_advantages(rewards[:n_ref], G),
        lambda: (
            (response_advantages(rewards[:n_ref], G) - loop_response_advantages(rewards[:n_ref], G)).abs().max().item()
        ),
    )

    rows, loop_repeats = {}, max(1, args.repeats // 2)
    print(
        f"N={B * G} (B={B}, G={G}) K={K} T={T} threads={args.threads}; "
        f"loop reference on {n_ref} rows, extrapolated x{B / args.ref_groups:g}"
    )
    print(f"{'case':36s} {'vectorized s':>13s} {'loop s (extrap.)':>17s} {'speed-up':>9s} {'max |diff|':>11s}")
    for name, (fast, slow, diff) in cases.items():
        fast()  # warm-up
        t_fast = median_time(fast, args.repeats)
        t_slow = median_time(slow, loop_repeats) * B / args.ref_groups
        rows[name] = {
            "vectorized_s": t_fast,
            "loop_reference_s": t_slow,
            "speedup": t_slow / t_fast,
            "max_abs_diff": diff(),
        }
        print(f"{name:36s} {t_fast:13.4f} {t_slow:17.3f} {t_slow / t_fast:8.0f}x {rows[name]['max_abs_diff']:11.2e}")

    result = {
        "shapes": {"B": B, "G": G, "N": B * G, "K": K, "T": T, "dtype": "float32"},
        "threads": args.threads,
        "device": "cpu",
        "torch": torch.__version__,
        "repeats": {"vectorized": args.repeats, "loop_reference": loop_repeats},
        "statistic": "median wall-clock seconds per call",
        "loop_reference": (
            f"Python loops over groups, responses and items (torch ops per row), run on the first "
            f"{args.ref_groups} groups ({n_ref} rows) and extrapolated linearly to all {B} groups; "
            f"max_abs_diff compares both on that subset"
        ),
        "results": rows,
    }
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(result, indent=2) + "\n")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
