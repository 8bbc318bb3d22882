import json
import math
import random

import numpy as np
import pytest
import torch

from rtt.config import DiscriminatorConfig
from rtt.discriminator.model import init_discriminator
from rtt.discriminator.train import Pair, encode, evaluate, length_batches, split_by_prompt, train_discriminator
from rtt.models import build_tiny_model, load_tokenizer

NOUNS = ["ocean", "coffee", "robot", "music", "garden"]
COLORS = ["blue", "green"]
FILLER = "the a city note tips short write please answer with words title end help small big quick slow".split()


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    return str(build_tiny_model(tmp_path_factory.mktemp("tiny") / "tiny"))


def toy_pairs(tokenizer, n_prompts: int = 20, seed: int = 0) -> list[Pair]:
    """Item "Mark the word w": label 1 exactly on the response tokens whose id is that of " w"."""
    rng = random.Random(seed)
    pairs = []
    for p in range(n_prompts):
        for target in rng.sample(NOUNS + COLORS, 3):
            words = [rng.choice(FILLER + NOUNS + COLORS) for _ in range(rng.randint(6, 14))]
            words[rng.randrange(len(words))] = target
            ids = tokenizer(" " + " ".join(words), add_special_tokens=False)["input_ids"] + [tokenizer.eos_token_id]
            target_id = tokenizer(" " + target, add_special_tokens=False)["input_ids"]
            assert len(target_id) == 1
            labels = [int(t == target_id[0]) for t in ids]
            kind = "color" if target in COLORS else "noun"
            pairs.append(Pair(f"p{p}", kind, f"Mark the word {target}", ids, labels))
    return pairs


def test_split_by_prompt_is_disjoint_and_deterministic():
    pairs = [Pair(f"p{i % 10}", "k", "item", [1], [0]) for i in range(40)]
    train, heldout = split_by_prompt(pairs, 0.2, seed=3)
    assert {p.prompt_id for p in train}.isdisjoint({p.prompt_id for p in heldout})
    assert len({p.prompt_id for p in heldout}) == 2 and len(train) + len(heldout) == 40
    again = split_by_prompt(list(reversed(pairs)), 0.2, seed=3)
    assert {p.prompt_id for p in again[1]} == {p.prompt_id for p in heldout}
    other_seeds = {frozenset(p.prompt_id for p in split_by_prompt(pairs, 0.2, seed=s)[1]) for s in range(10)}
    assert len(other_seeds) > 1  # the seed matters


def test_split_by_prompt_small_inputs():
    two = [Pair("a", "k", "i", [1], [0]), Pair("b", "k", "i", [1], [0])]
    train, heldout = split_by_prompt(two, 0.01, seed=0)
    assert len(train) == 1 and len(heldout) == 1  # at least one prompt held out, never all
    train, heldout = split_by_prompt(two[:1], 0.5, seed=0)
    assert len(train) == 1 and heldout == []


def test_length_batches_groups_similar_lengths():
    lengths = [5, 50, 6, 51, 7, 52, 8, 53]
    batches = length_batches(lengths, 4, random.Random(0))
    assert sorted(i for b in batches for i in b) == list(range(8))
    assert sorted(sorted(lengths[i] for i in b) for b in batches) == [[5, 6, 7, 8], [50, 51, 52, 53]]


def test_encode_truncates_from_the_response_end(tiny):
    tokenizer = load_tokenizer(tiny)
    pair = Pair("p", "k", "item", list(range(10, 40)), [1] * 30)
    full = encode(tokenizer, "Find.", pair, limit=10_000)
    cut = encode(tokenizer, "Find.", pair, limit=full.start + 5)
    assert cut.ids == full.ids[: full.start + 5] and cut.labels == [1] * 5
    assert encode(tokenizer, "Find.", pair, limit=full.start).labels == []


def test_training_lowers_heldout_loss(tiny):
    # On 10 of 10 seeds (data, split, init, training) this setting takes the held-out loss from
    # ~0.69 to 0.29-0.38 and the held-out AUROC to 0.76-0.87 (the target token is only findable
    # by matching it to the item text, so AUROC well above 0.5 means more than a base rate).
    tokenizer = load_tokenizer(tiny)
    pairs = toy_pairs(tokenizer)
    train, heldout = split_by_prompt(pairs, 0.25, seed=0)
    cfg = DiscriminatorConfig(epochs=6, batch_size=8, lr=3e-3, warmup_ratio=0.1, patience=2)
    torch.manual_seed(0)
    model = init_discriminator(tiny, "cpu")
    before = {k: v.clone() for k, v in model.state_dict().items()}
    initial = evaluate(model, tokenizer, heldout, cfg, "cpu")

    seen, steps = [], []
    history = train_discriminator(
        model,
        tokenizer,
        train,
        heldout,
        cfg,
        "cpu",
        seed=0,
        on_eval=lambda rows: seen.append(list(rows)),
        on_step=lambda step, loss: steps.append((step, loss)),
    )

    assert seen[-1] == history and all(history[: len(rows)] == rows for rows in seen)  # all rows so far each time
    assert [s for s, _ in steps] == list(range(1, len(steps) + 1)) and all(math.isfinite(x) for _, x in steps)
    overall = [r for r in history if r["kind"] == "all"]
    assert 1 <= len(overall) <= cfg.epochs
    assert {r["kind"] for r in history} == {"all", "color", "noun"}
    assert overall[-1]["epoch"] == pytest.approx(len(overall))
    assert overall[-1]["n_tokens"] == initial.labels.size
    final = evaluate(model, tokenizer, heldout, cfg, "cpu")
    assert final.loss == pytest.approx(min(r["loss"] for r in overall), rel=1e-4)  # best weights restored
    assert final.loss < initial.loss - 0.2
    best = min(overall, key=lambda r: r["loss"])
    assert best["auroc"] > 0.65
    assert all(not torch.equal(before[k], v) for k, v in model.state_dict().items())


def test_max_steps_stops_mid_epoch_and_evaluates(tiny):
    tokenizer = load_tokenizer(tiny)
    pairs = toy_pairs(tokenizer, n_prompts=8)
    train, heldout = split_by_prompt(pairs, 0.25, seed=1)
    cfg = DiscriminatorConfig(epochs=3, batch_size=2, grad_accum=2, max_steps=2, lr=1e-3)
    torch.manual_seed(0)
    model = init_discriminator(tiny, "cpu")
    history = train_discriminator(model, tokenizer, train, heldout, cfg, "cpu")
    overall = [r for r in history if r["kind"] == "all"]
    assert len(overall) == 1
    assert overall[0]["opt_step"] == 2 and 0 < overall[0]["epoch"] < 1
    assert math.isfinite(overall[0]["loss"])
    assert set(overall[0]) >= {"split", "precision", "recall", "f1", "auroc", "ece", "n_tokens"}


def test_padding_and_prefix_carry_no_loss(tiny):
    # the loss only reads labelled tokens: a pair's loss is the same alone or batched with a longer one
    tokenizer = load_tokenizer(tiny)
    pairs = toy_pairs(tokenizer, n_prompts=2)
    cfg = DiscriminatorConfig(score_batch_size=8)
    torch.manual_seed(0)
    model = init_discriminator(tiny, "cpu")
    together = evaluate(model, tokenizer, pairs, cfg, "cpu")
    alone = np.concatenate([evaluate(model, tokenizer, [p], cfg, "cpu").token_losses for p in pairs])
    assert together.token_losses.size == alone.size == sum(len(p.labels) for p in pairs)
    assert np.allclose(np.sort(together.token_losses), np.sort(alone), atol=1e-5)


def test_early_stopping_after_patience_evaluations(tiny):
    # lr 0: the held-out loss never improves on the first evaluation, so patience 1 stops at the 2nd
    tokenizer = load_tokenizer(tiny)
    train, heldout = split_by_prompt(toy_pairs(tokenizer, n_prompts=6), 0.34, seed=0)
    cfg = DiscriminatorConfig(epochs=5, batch_size=4, lr=0.0, patience=1)
    torch.manual_seed(0)
    model = init_discriminator(tiny, "cpu")
    history = train_discriminator(model, tokenizer, train, heldout, cfg, "cpu")
    assert [r["epoch"] for r in history if r["kind"] == "all"] == [1.0, 2.0]


class Crash(Exception):
    pass


def test_resume_after_a_crash_ends_with_the_uninterrupted_weights(tiny, tmp_path):
    tokenizer = load_tokenizer(tiny)
    train, heldout = split_by_prompt(toy_pairs(tokenizer, n_prompts=8), 0.25, seed=2)
    cfg = DiscriminatorConfig(epochs=3, batch_size=4, lr=1e-3, save_every=2, patience=0)
    assert len(train) == 18  # 5 micro-batches, so 5 optimizer steps per epoch

    def fresh():
        torch.manual_seed(0)
        return init_discriminator(tiny, "cpu")

    straight = fresh()
    expected = train_discriminator(straight, tokenizer, train, heldout, cfg, "cpu", seed=1)

    def crash_at_step_8(step, loss):
        if step == 8:
            raise Crash

    state = tmp_path / "state"
    with pytest.raises(Crash):
        train_discriminator(
            fresh(), tokenizer, train, heldout, cfg, "cpu", seed=1, on_step=crash_at_step_8, state_dir=state
        )
    saved = json.loads((state / "progress.json").read_text())
    assert (saved["opt_step"], saved["epoch"], saved["micro"]) == (6, 1, 1)  # saved mid-epoch, at step 6
    assert len(saved["history"]) == 3  # epoch 0's evaluation: all, color, noun

    resumed, steps = fresh(), []
    history = train_discriminator(
        resumed,
        tokenizer,
        train,
        heldout,
        cfg,
        "cpu",
        seed=1,
        state_dir=state,
        on_step=lambda step, loss: steps.append(step),
    )
    assert steps == list(range(7, 16))
    assert history == expected
    for name, weight in straight.state_dict().items():
        assert torch.allclose(weight, resumed.state_dict()[name], atol=1e-6), name


def test_resume_refuses_a_state_saved_for_other_settings(tiny, tmp_path):
    tokenizer = load_tokenizer(tiny)
    train, heldout = split_by_prompt(toy_pairs(tokenizer, n_prompts=4), 0.25, seed=0)
    cfg = DiscriminatorConfig(epochs=1, batch_size=4, lr=1e-3, save_every=1)

    def crash_at_step_2(step, loss):
        if step == 2:
            raise Crash

    with pytest.raises(Crash):
        train_discriminator(
            init_discriminator(tiny, "cpu"),
            tokenizer,
            train,
            heldout,
            cfg,
            "cpu",
            on_step=crash_at_step_2,
            state_dir=tmp_path / "s",
        )
    assert json.loads((tmp_path / "s" / "progress.json").read_text())["opt_step"] == 1
    with pytest.raises(ValueError, match="other settings or data"):
        train_discriminator(
            init_discriminator(tiny, "cpu"),
            tokenizer,
            train,
            heldout,
            cfg.model_copy(update={"lr": 1e-4}),
            "cpu",
            state_dir=tmp_path / "s",
        )


def test_train_layers_updates_only_the_top_layers_and_the_head(tiny):
    tokenizer = load_tokenizer(tiny)
    train, heldout = split_by_prompt(toy_pairs(tokenizer, n_prompts=4), 0.25, seed=0)
    torch.manual_seed(0)
    model = init_discriminator(tiny, "cpu")
    before = {k: v.clone() for k, v in model.state_dict().items()}
    train_discriminator(model, tokenizer, train, heldout, DiscriminatorConfig(epochs=1, lr=1e-2, train_layers=1), "cpu")
    changed = {k for k, v in model.state_dict().items() if not torch.equal(before[k], v)}
    top = [k for k in before if k.startswith("model.layers.1.")]  # the tiny model has layers 0 and 1
    assert changed == {*top, "model.norm.weight", "score.weight", "score.bias"}
    assert all(p.requires_grad for p in model.parameters())  # frozen only while training
