"""The relevance pages' shading, legend and order, and `rtt show`'s legend (the stored-run side is
in tests/flows/test_pipeline.py)."""

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from rtt.relevance_view import (
    MAX_ALPHA,
    TERMINAL_LEGEND,
    LabelExample,
    ansi,
    html_token,
    render_labels_html,
    shades,
)


def test_shades_are_min_max_per_item_by_hand():
    # range 0.02..0.06: (0.02 - 0.02) / 0.04 = 0, (0.03 - 0.02) / 0.04 = 0.25, 0.06 -> 1
    assert shades([0.02, 0.03, 0.06]) == pytest.approx([0.0, 0.25, 1.0])
    # all equal: the score itself, so all-one gold labels stay dark and all-zero ones white
    assert shades([1.0, 1.0]) == [1.0, 1.0] and shades([0.0, 0.0]) == [0.0, 0.0] and shades([]) == []


@given(st.lists(st.floats(0, 1), min_size=1, max_size=50))
def test_shades_lie_in_0_1_and_the_top_score_is_darkest(scores):
    shaded = shades(scores)
    assert all(0 <= s <= 1 for s in shaded)
    top = max(range(len(scores)), key=scores.__getitem__)
    assert shaded[top] == max(shaded)
    if max(scores) - min(scores) >= 1e-6:
        assert max(shaded) == 1 and min(shaded) == 0


def test_a_token_carries_its_exact_score_and_evidence_outline():
    token = html_token("a<b", 0.03125, 0.5, -1, evidence=True)
    assert (
        'title="score 0.0312 (judge&#x27;s evidence)"' in token or 'title="score 0.0312 (judge\'s evidence)"' in token
    )
    assert 'class="ev"' in token and "a&lt;b" in token
    assert f"rgba(220,38,38,{MAX_ALPHA * 0.5:.3f})" in token  # red: a violated item
    assert 'class="ev"' not in html_token("x", 0.1, 0.1, 1, evidence=False)


def test_labels_page_puts_violated_items_first_with_legend_and_ranges():
    examples = [
        LabelExample("k:a", "satisfied item", 1, ["x", "y"], [0, 1], [0.1, 0.9]),
        LabelExample("k:b", "violated item", -1, ["p", "q", "r"], [1, 0, 0], [0.02, 0.01, 0.04]),
    ]
    page = render_labels_html("t", examples)
    assert page.index("violated item") < page.index("satisfied item")
    assert 'class="legend"' in page and "min-max normalisation per item" in page and "Outlined" in page
    assert "discriminator: 0.010" in page and "0.040" in page  # each item's scale with its values
    # 1 evidence token; 1 scored >= 0.5 and it is the evidence one (the satisfied item)
    assert "1 token(s) in the judge's evidence; 1 scored 0.5 or more, 1 of them in it" in page
    assert "prompts the discriminator did not train on" in page
    assert "none were held out" in render_labels_html("t", examples, held_out=False)


def test_terminal_tokens_underline_evidence_and_shade_in_five_steps():
    assert ansi("a", 0.0, 1, False) == "a"
    assert ansi("a", 0.0, 1, True) == "\x1b[4ma\x1b[0m"  # evidence, not relevant: underlined only
    assert ansi("a", 1.0, -1, True) == "\x1b[4;48;5;196ma\x1b[0m"  # 16 + 36 x 5: the brightest red
    assert ansi("a", 0.2, 1, False) == "\x1b[48;5;22ma\x1b[0m"  # level 1 of green: 16 + 6
    assert re.search(r"underlined", TERMINAL_LEGEND) and "min->max" in TERMINAL_LEGEND
