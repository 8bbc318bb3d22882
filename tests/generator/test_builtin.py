import collections
import hashlib
import importlib
import itertools
import json
import re
from xml.sax.saxutils import escape as xml_escape

import pytest

import rtt.constraints
from rtt.constraints import IFEVAL_IDS, INSTRUCTION_IDS, check, describe
from rtt.constraints.language import detect_language
from rtt.constraints.sentences import sentence_spans
from rtt.generator import builtin, instructions, vocabulary
from rtt.generator.builtin import compatible, conflicts, generate_prompts, make_prompt, split_prompts
from rtt.generator.instructions import CONFLICTING_IDS, ID, POOL, POOLS, SPECS, WEIGHTS
from rtt.generator.vocabulary import (
    END_PHRASES,
    FIRST_WORDS,
    FORBIDDEN_POOL,
    QUESTIONS,
    SECTION_SPLITTERS,
    TASKS,
    TOPICS,
)

SAMPLE_RESPONSE = (
    "<<A Note>>\nHere is a short note, with a comma.\n* first point\n- second point\nP.S. Thank you for reading."
)
EASY = {ID[n] for n in ("no_comma", "existence", "number_words", "lowercase", "end", "title", "postscript")}
EXTENDED = set(INSTRUCTION_IDS) - set(IFEVAL_IDS)


def c(name: str, **kwargs) -> dict:
    return {"instruction_id": ID[name], "kwargs": kwargs}


@pytest.mark.parametrize("kinds", builtin.KINDS)
def test_deterministic_by_seed_and_prefix_stable(kinds):
    assert generate_prompts(20, seed=3, kinds=kinds) == generate_prompts(20, seed=3, kinds=kinds)
    assert generate_prompts(20, seed=3, kinds=kinds)[:5] == generate_prompts(5, seed=3, kinds=kinds)
    assert generate_prompts(40, seed=3, max_constraints=6, kinds=kinds)[10:20] == [
        make_prompt(3, i, 6, kinds) for i in range(10, 20)
    ]
    assert generate_prompts(20, seed=3, kinds=kinds) != generate_prompts(20, seed=4, kinds=kinds)


IFEVAL_DIGESTS = {  # (seed, max_constraints) -> sha256 of _canonical(generate_prompts(200, ...)) before rtt's kinds
    (0, 3): "03e1d6a867a742dad8a26a26023db83365941c6c2f7e2ca15d0525326b1cba22",
    (1, 6): "0030c65447b1f5c54274d262808f4ec910c2bf7d90b68f33f2452fd25d74ae8d",
    (7, 2): "4fabb7c7abecdda967af6fb0ec3be8dfe6d4891e30f960a864829aae258a9382",
    (123, 30): "f9279ebaf4e41811f0381ff9e1f6bf3d56017e6e02fad29d7e09eca409a49a8d",
}


def _canonical(prompts: list[dict]) -> str:
    """What the generator decides (ids, texts, kwargs); the rubric texts are describe()'s."""
    rows = [
        [p["prompt_id"], p["prompt"], p["task"], [[c_["instruction_id"], c_["kwargs"]] for c_ in p["constraints"]]]
        for p in prompts
    ]
    return hashlib.sha256(json.dumps(rows, sort_keys=True).encode()).hexdigest()


def test_ifeval_kinds_output_is_unchanged():
    """kinds="ifeval" gives exactly the prompts the generator gave before rtt's kinds were added
    (the demo's numbers depend on them)."""
    first = generate_prompts(2, seed=0, kinds="ifeval")
    assert first[0]["prompt_id"] == "builtin-5e919dd1941b7edd"
    assert first[1]["prompt"] == (
        "Write a short reflection on a lesson you learned from swimming. After your main "
        'text, add a short postscript beginning with "P.S.".'
    )
    for (seed, max_constraints), digest in IFEVAL_DIGESTS.items():
        assert _canonical(generate_prompts(200, seed=seed, max_constraints=max_constraints, kinds="ifeval")) == digest


def test_kinds():
    assert set(POOLS["ifeval"]) == set(IFEVAL_IDS) and set(POOLS["all"]) == set(INSTRUCTION_IDS) == set(POOL)
    assert len(EXTENDED) == 19
    ifeval = generate_prompts(1000, seed=4, max_constraints=6, kinds="ifeval")
    assert {c_["instruction_id"] for p in ifeval for c_ in p["constraints"]} <= set(IFEVAL_IDS)
    everything = generate_prompts(1000, seed=4, max_constraints=6, kinds="all")
    assert {c_["instruction_id"] for p in everything for c_ in p["constraints"]} & EXTENDED
    assert not {p["prompt_id"] for p in ifeval} & {p["prompt_id"] for p in everything}
    assert generate_prompts(3, seed=4) == generate_prompts(3, seed=4, kinds="all")  # the default
    for bad in ("IFEval", "extended", "", None):
        with pytest.raises(ValueError):
            generate_prompts(3, seed=0, kinds=bad)
        with pytest.raises(ValueError):
            make_prompt(0, 0, kinds=bad)


def test_prompt_shape_and_texts():
    for max_constraints in (3, 6):
        for p in generate_prompts(100, seed=0, max_constraints=max_constraints):
            assert set(p) == {"prompt_id", "prompt", "task", "constraints"}
            assert p["prompt"].startswith(p["task"])
            assert "{" not in p["prompt"] and "}" not in p["prompt"]  # every slot filled
            assert 1 <= len(p["constraints"]) <= max_constraints
            for c_ in p["constraints"]:
                assert c_["instruction_id"] in INSTRUCTION_IDS
                assert c_["text"] == describe(c_["instruction_id"], c_["kwargs"])
                json.dumps(c_["kwargs"])  # the stage stores them as JSON
            if any(c_["instruction_id"] == ID["repeat"] for c_ in p["constraints"]):
                assert p["constraints"][0]["kwargs"] == {"prompt_to_repeat": p["task"]}


def test_every_constraint_checks_on_a_sample_response():
    seen = set()
    for p in generate_prompts(2000, seed=1, max_constraints=6):
        for c_ in p["constraints"]:
            verdict = check(c_["instruction_id"], c_["kwargs"], SAMPLE_RESPONSE, prompt=p["prompt"])
            assert isinstance(verdict.passed, bool)
            seen.add(c_["instruction_id"])
    assert seen == set(WEIGHTS) == set(POOL)  # every kind the generator is meant to draw shows up
    assert set(POOL) <= set(INSTRUCTION_IDS)


def test_distribution_of_ids_and_counts():
    prompts = generate_prompts(2000, seed=5, max_constraints=6)
    ids = collections.Counter(c_["instruction_id"] for p in prompts for c_ in p["constraints"])
    assert set(ids) == set(POOL) and set(ids) >= EXTENDED
    assert all(ids[i] >= 10 for i in EXTENDED)
    assert set(collections.Counter(len(p["constraints"]) for p in prompts)) == {1, 2, 3, 4, 5, 6}
    assert len({p["task"] for p in prompts}) > 1000
    assert {p["task"] for p in prompts if p["constraints"][0]["instruction_id"] == ID["constrained"]} <= {
        builtin._fill(q, t, None) for q in QUESTIONS for t in TOPICS
    }


@pytest.mark.parametrize("kinds", builtin.KINDS)
def test_easy_items_stay_the_most_frequent_in_the_demo_setting(kinds):
    assert len(TASKS) >= 40 and len(TOPICS) >= 60 and all(len(w) >= 4 for w in TOPICS.values())
    assert set(SPECS) == set(INSTRUCTION_IDS)  # every registered id has an entry
    prompts = generate_prompts(2000, seed=0, max_constraints=3, kinds=kinds)
    counts = collections.Counter(c_["instruction_id"] for p in prompts for c_ in p["constraints"])
    top = {i for i, _ in counts.most_common(len(EASY))}
    assert top == EASY & set(POOL)
    assert min(SPECS[i].weight for i in EASY) > max(
        SPECS[i].weight
        for i in set(SPECS) - EASY - {ID["forbidden"], ID["frequency"], ID["capital"], ID["quotation"], ID["bullets"]}
    )
    assert all(0.3 <= SPECS[i].weight <= 1 for i in EXTENDED)


def test_no_conflicting_pairs_and_no_repeated_id():
    for p in generate_prompts(1000, seed=2, max_constraints=6):
        ids = [c_["instruction_id"] for c_ in p["constraints"]]
        assert len(ids) == len(set(ids))
        for a, b in itertools.combinations(p["constraints"], 2):
            assert frozenset({a["instruction_id"], b["instruction_id"]}) not in CONFLICTING_IDS
            assert not conflicts(a, b)
        assert compatible(p["constraints"])


def test_conflicts_rule_set():
    lower, upper, quote = c("lowercase"), c("capital"), c("quotation")
    end = c("end", end_phrase="Have a great day!")
    ps = c("postscript", postscript_marker="P.S.")
    keyword = c("existence", keywords=["Sea"])
    forbid_sea = c("forbidden", forbidden_words=["sea"])
    forbid_great = c("forbidden", forbidden_words=["great"])
    forbid_very = c("forbidden", forbidden_words=["very"])
    for a, b in [
        (lower, upper),
        (quote, end),
        (quote, ps),
        (end, ps),
        (keyword, forbid_sea),
        (end, forbid_great),
        (lower, lower),
    ]:
        assert conflicts(a, b) and conflicts(b, a)
    for a, b in [(lower, end), (upper, ps), (keyword, forbid_very), (quote, keyword), (end, forbid_very)]:
        assert not conflicts(a, b) and not conflicts(b, a)


KNOWN_IMPOSSIBLE = [
    # (a, b): no response can satisfy both, or the pair asks for two incompatible shapes
    (c("lowercase"), c("capital_words", capital_frequency=2, capital_relation="at least")),
    (c("capital"), c("capital_words", capital_frequency=3, capital_relation="less than")),
    (c("lowercase"), c("constrained")),
    (c("json"), c("title")),
    (c("json"), c("postscript", postscript_marker="P.S.")),
    (c("json"), c("bullets", num_bullets=3)),
    (c("json"), c("quotation")),
    (c("json"), c("end", end_phrase="Hope this helps.")),
    (c("json"), c("paragraphs", num_paragraphs=3)),
    (c("json"), c("repeat", prompt_to_repeat="Write a poem.")),
    (c("two_responses"), c("repeat", prompt_to_repeat="Write a poem.")),
    (c("two_responses"), c("paragraphs", num_paragraphs=2)),
    (c("two_responses"), c("sections", section_spliter="Section", num_sections=2)),
    (c("constrained"), c("number_words", num_words=300, relation="at least")),
    (c("constrained"), c("paragraphs", num_paragraphs=3)),
    (c("paragraphs", num_paragraphs=3), c("nth_paragraph", num_paragraphs=3, nth_paragraph=2, first_word="then")),
    (c("language", language="fr"), c("lowercase")),
    (c("language", language="de"), c("existence", keywords=["ocean"])),
    (c("language", language="es"), c("end", end_phrase="Hope this helps.")),
    (c("quotation"), c("repeat", prompt_to_repeat="Write a poem.")),
    (c("title"), c("nth_paragraph", num_paragraphs=3, nth_paragraph=1, first_word="then")),
    (c("number_words", num_words=30, relation="less than"), c("paragraphs", num_paragraphs=4)),
    (c("number_words", num_words=30, relation="less than"), c("sentences", num_sentences=8, relation="at least")),
    (c("number_words", num_words=40, relation="less than"), c("sections", section_spliter="PART", num_sections=6)),
    (c("sentences", num_sentences=3, relation="less than"), c("paragraphs", num_paragraphs=3)),
    (c("sentences", num_sentences=3, relation="less than"), c("number_words", num_words=300, relation="at least")),
    (c("no_comma"), c("repeat", prompt_to_repeat="Write to Sam, a friend, about tea.")),
    (
        c("frequency", keyword="tea", frequency=2, relation="less than"),
        c("repeat", prompt_to_repeat="Write about tea and a teapot."),
    ),
    (
        c("frequency", keyword="tea", frequency=2, relation="less than"),
        c("frequency", keyword="tea", frequency=3, relation="at least"),
    ),
    (c("forbidden", forbidden_words=["ocean"]), c("frequency", keyword="ocean", frequency=2, relation="at least")),
    (
        c("forbidden", forbidden_words=["first"]),
        c("nth_paragraph", num_paragraphs=2, nth_paragraph=2, first_word="first"),
    ),
    (
        c("letter", letter="q", let_frequency=2, let_relation="less than"),
        c("repeat", prompt_to_repeat="A quiet quilt for the queen."),
    ),
    (c("lowercase"), c("sections", section_spliter="Section", num_sections=2)),
    (c("capital"), c("sections", section_spliter="Part", num_sections=2)),
    (
        c("capital_words", capital_frequency=2, capital_relation="less than"),
        c("sections", section_spliter="SECTION", num_sections=3),
    ),
    # rtt's further kinds
    (c("json_keys", keys=["tea", "tips"]), c("json")),
    (c("json_keys", keys=["tea", "tips"]), c("title")),
    (c("json_keys", keys=["tea", "tips"]), c("table", num_rows=2, num_columns=2)),
    (c("json_keys", keys=["Tea", "tips"]), c("lowercase")),
    (c("xml", root="note"), c("json")),
    (c("xml", root="note"), c("bullets", num_bullets=3)),
    (c("xml", root="note"), c("start_with", phrase="Here is")),
    (c("words_between", min_words=30, max_words=60), c("number_words", num_words=40, relation="less than")),
    (c("words_between", min_words=30, max_words=60), c("sentences", num_sentences=15, relation="at least")),
    (c("sentences_between", min_sentences=2, max_sentences=4), c("numbered", num_items=5)),
    (c("sentences_between", min_sentences=2, max_sentences=4), c("sentences", num_sentences=3, relation="at least")),
    (c("paragraphs_between", min_paragraphs=2, max_paragraphs=3), c("paragraphs", num_paragraphs=2)),
    (c("bullets_between", min_bullets=2, max_bullets=4), c("bullets", num_bullets=3)),
    (c("numbered", num_items=3), c("bullets_between", min_bullets=2, max_bullets=4)),
    (c("headings", min_headings=2), c("sections", section_spliter="Part", num_sections=2)),
    (c("sentence_words", max_words=15), c("sentences", num_sentences=4, relation="less than")),
    (c("sentence_words", max_words=15), c("bullets", num_bullets=3)),
    (c("sentence_words", max_words=15), c("table", num_rows=2, num_columns=2)),
    (c("max_characters", max_characters=400), c("number_words", num_words=200, relation="at least")),
    (c("max_characters", max_characters=400), c("words_between", min_words=80, max_words=120)),
    (c("start_with", phrase="Here is"), c("quotation")),
    (c("start_with", phrase="Here is"), c("title")),
    (c("start_with", phrase="Here is"), c("json")),
    (c("start_with", phrase="Here is"), c("constrained")),
    (c("start_with", phrase="Here is"), c("repeat", prompt_to_repeat="Write a poem.")),
    (c("start_with", phrase="Here is"), c("nth_paragraph", num_paragraphs=2, nth_paragraph=1, first_word="then")),
    (c("start_with", phrase="Beans"), c("in_order", phrases=["coffee", "beans"])),
    (c("in_order", phrases=["coffee", "beans"]), c("forbidden", forbidden_words=["beans"])),
    (c("in_order", phrases=["coffee", "beans"]), c("language", language="it")),
    (
        c("phrase_count", phrase="tea", min_count=1, max_count=2),
        c("frequency", keyword="tea", frequency=3, relation="at least"),
    ),
    (
        c("phrase_count", phrase="tea", min_count=2, max_count=3),
        c("frequency", keyword="tea", frequency=2, relation="less than"),
    ),
    (c("forbidden_phrases", phrases=["of course"]), c("repeat", prompt_to_repeat="Of course, write a poem.")),
    (c("forbidden_phrases", phrases=["to be honest"]), c("language", language="es")),
    (c("no_digits"), c("numbered", num_items=3)),
    (c("no_digits"), c("sections", section_spliter="Section", num_sections=2)),
    (c("forbidden_chars", characters="*"), c("bullets", num_bullets=3)),
    (c("forbidden_chars", characters="*"), c("highlights", num_highlights=2)),
    (c("forbidden_chars", characters="#"), c("headings", min_headings=2)),
    (c("forbidden_chars", characters="-"), c("table", num_rows=2, num_columns=2)),
    (c("forbidden_chars", characters="-"), c("bullets_between", min_bullets=2, max_bullets=4)),
    (c("forbidden_chars", characters=";!"), c("end", end_phrase="Have a great day!")),
    (c("forbidden_chars", characters=":"), c("json")),
    (c("forbidden_chars", characters="-"), c("repeat", prompt_to_repeat="Write a how-to guide.")),
    (c("ascii"), c("language", language="fr")),
    (c("line_length", max_characters=60), c("json")),
    (c("table", num_rows=2, num_columns=2), c("language", language="de")),
]


@pytest.mark.parametrize("a,b", KNOWN_IMPOSSIBLE)
def test_known_impossible_combinations_are_rejected(a, b):
    assert conflicts(a, b) and conflicts(b, a)
    assert not compatible([a, b])


def test_compatible_checks_the_whole_set():
    # each pair fits under 40 words; all three together do not
    words = c("number_words", num_words=40, relation="less than")
    paragraphs = c("paragraphs", num_paragraphs=3)
    bullets = c("bullets", num_bullets=5)
    assert not conflicts(words, paragraphs) and not conflicts(words, bullets)
    assert not compatible([words, paragraphs, bullets, c("sections", section_spliter="SECTION", num_sections=2)])
    # the keyword may come once if "less than 2", but the end phrase and the keyword list make two
    freq = c("frequency", keyword="day", frequency=2, relation="less than")
    assert compatible([freq, c("existence", keywords=["day"])])
    assert not compatible([freq, c("existence", keywords=["day"]), c("end", end_phrase="Have a great day!")])
    # fine combinations stay fine
    assert compatible(
        [
            c("no_comma"),
            c("existence", keywords=["tea"]),
            c("lowercase"),
            c("title"),
            c("postscript", postscript_marker="P.S."),
            c("bullets", num_bullets=3),
        ]
    )
    assert compatible([c("json"), c("existence", keywords=["tea"]), c("lowercase")])
    assert compatible([c("constrained"), c("no_comma"), c("end", end_phrase="Stay curious.")])
    # characters: 40 needed words fit 400; a table's 16 more do not
    chars = c("max_characters", max_characters=400)
    words = c("words_between", min_words=30, max_words=60)
    table = c("table", num_rows=2, num_columns=3)
    assert compatible([chars, words]) and compatible([chars, table]) and not compatible([chars, words, table])
    # a counted word: the order and the keyword list bring one each
    count = c("phrase_count", phrase="tea", min_count=1, max_count=2)
    assert compatible([count, c("in_order", phrases=["tea", "mug"]), c("existence", keywords=["tea"])])
    assert not compatible(
        [
            count,
            c("in_order", phrases=["tea", "mug"]),
            c("existence", keywords=["tea"]),
            c("frequency", keyword="tea", frequency=1, relation="at least"),
        ]
    )
    assert compatible(
        [
            c("forbidden_chars", characters="!"),
            c("end", end_phrase="Stay curious."),
            c("bullets", num_bullets=2),
            c("title"),
            c("no_digits"),
            c("ascii"),
        ]
    )


def test_conflict_tables_are_consistent():
    for a, b, why in instructions.CONFLICTS:
        assert a in SPECS and b in SPECS and a != b and why
    for a, b, _, why in instructions.KWARG_CONFLICTS:
        assert a in SPECS and b in SPECS and why
    for spec in SPECS.values():
        assert spec.only_with is None or spec.only_with <= set(SPECS)
        assert spec.weight > 0 and spec.wordings


def test_word_pools_never_collide():
    v = vocabulary
    required = {w for words in TOPICS.values() for w in words} | set(FIRST_WORDS)
    phrases = [*END_PHRASES, *v.START_PHRASES, *v.TABLE_COLUMNS]
    required |= {w.lower() for phrase in phrases for w in re.findall(r"\w+", phrase)}
    assert not set(v.JSON_KEYS) & {w for words in TOPICS.values() for w in words}  # no key twice
    required |= set(v.JSON_KEYS) | set(v.XML_ROOTS)
    assert not required & set(FORBIDDEN_POOL)
    assert not any(f in p.lower() for f in v.FORBIDDEN_PHRASES for p in phrases)
    assert not any("," in phrase for phrase in phrases)
    assert all(re.fullmatch(r"[a-z]+", w) for w in FIRST_WORDS) and all(s.strip() == s for s in SECTION_SPLITTERS)
    assert all(re.fullmatch(r"[a-z]+", w) for w in (*v.JSON_KEYS, *v.XML_ROOTS))
    assert all(re.fullmatch(r"[^\w\s.,]{1,2}", chars) for chars in v.FORBIDDEN_CHARACTERS)
    for ranges in (v.WORD_RANGES, v.SENTENCE_RANGES, v.PARAGRAPH_RANGES, v.BULLET_RANGES, v.PHRASE_COUNTS):
        assert all(1 <= low < high for low, high in ranges)


def test_table_columns_are_allowed_by_the_other_items():
    """A table's column names are required text too: the wording names only what the rest allows."""
    ctx = instructions.Context("coffee", TOPICS["coffee"], "Write a short note about coffee.")
    rng = builtin.random.Random(0)
    allowed = lambda text: text.lower() not in ("coffee", "beans", "cup", "tip", "notes")  # noqa: E731
    for _ in range(50):
        columns = instructions._table_hints({"num_rows": 2, "num_columns": 3}, ctx, rng, allowed)["columns"]
        named = re.findall(r'"([^"]+)"', columns)
        assert len(named) == 3 and all(allowed(n) for n in named), columns
    assert instructions._table_hints({"num_rows": 2, "num_columns": 3}, ctx, rng, lambda text: False) == {
        "columns": "3 columns"
    }
    checked = 0
    for p in generate_prompts(3000, seed=6, max_constraints=6):
        found = re.search(r'the columns ("[^"]+"(?:(?:, | and )"[^"]+")*)', p["prompt"])
        if found:
            checked += 1
            for name in re.findall(r'"([^"]+)"', found.group(1)):
                assert builtin._limits_hold(p["constraints"], instructions.text_needs(name)), (name, p["prompt"])
    assert checked > 50


def test_prompt_ids_unique_and_varied():
    prompts = generate_prompts(500, seed=0)
    assert len({p["prompt_id"] for p in prompts}) == 500
    assert not {p["prompt_id"] for p in prompts} & {p["prompt_id"] for p in generate_prompts(500, seed=1)}
    assert len({p["task"] for p in prompts}) > 300
    assert len({p["prompt"] for p in prompts}) > 450


def test_max_constraints_above_what_fits():
    prompts = generate_prompts(100, seed=0, max_constraints=30)
    assert max(len(p["constraints"]) for p in prompts) > 6
    assert all(compatible(p["constraints"]) for p in prompts)
    with pytest.raises(ValueError):
        generate_prompts(3, seed=0, max_constraints=0)


def test_ids_without_a_checker_stay_out_of_the_pool(monkeypatch):
    """Entries for ids `rtt.constraints` does not register yet are kept out of the drawn pool."""
    missing = {ID["language"], ID["sentences"], ID["capital_words"], ID["xml"], ID["numbered"]}
    monkeypatch.setattr(rtt.constraints, "INSTRUCTION_IDS", tuple(i for i in INSTRUCTION_IDS if i not in missing))
    try:
        table = importlib.reload(instructions)
        module = importlib.reload(builtin)
        assert not set(table.POOL) & missing and set(table.SPECS) >= missing
        for p in module.generate_prompts(300, seed=0, max_constraints=6):
            assert not {c_["instruction_id"] for c_ in p["constraints"]} & missing
    finally:
        monkeypatch.undo()
        importlib.reload(instructions)
        importlib.reload(builtin)


def test_split_is_a_deterministic_partition():
    prompts = generate_prompts(40, seed=0)
    train, held = split_prompts(prompts, 0.25, seed=7)
    assert len(held) == 10 and len(train) == 30
    ids = lambda ps: [p["prompt_id"] for p in ps]  # noqa: E731
    assert sorted(ids(train) + ids(held)) == sorted(ids(prompts))
    assert not set(ids(train)) & set(ids(held))
    assert ids(train) == [i for i in ids(prompts) if i in set(ids(train))]  # input order kept
    assert split_prompts(prompts, 0.25, seed=7) == (train, held)
    assert split_prompts(prompts, 0.25, seed=8) != (train, held)
    assert split_prompts(prompts, 0.0, seed=7) == (prompts, [])
    with pytest.raises(ValueError):
        split_prompts(prompts, 1.5, seed=7)


# ---------------------------------------------------------------------------------------------
# Witnesses: a response, built from the constraints alone, that passes every one of them

EN_SENTENCES = (  # each one langdetect calls English in lower, title and upper case
    "We tried it together.",
    "The idea feels simple.",
    "It feels good to learn.",
    "The result surprised everyone.",
    "Everyone smiled at the end.",
    "Nobody wanted to go home.",
    "We learned a lot today.",
    "This is what we found.",
    "They talked about it.",
    "The weather was perfect.",
    "Everyone should try it.",
    "It was worth the effort.",
    "The whole family agreed.",
    "That was the best part.",
    "You should try it too.",
    "Most people would agree.",
    "It was a wonderful morning.",
    "The students were excited.",
    "There is more to learn.",
    "Everybody wanted to help.",
)
EN_WORDS = (
    "weather",
    "together",
    "morning",
    "student",
    "family",
    "wonderful",
    "teacher",
    "thought",
    "through",
    "children",
    "nothing",
    "something",
    "people",
    "because",
    "should",
    "would",
    "their",
    "there",
    "about",
    "which",
    "where",
    "other",
    "thinking",
    "without",
    "another",
    "brother",
    "mother",
    "father",
    "nothing",
    "everything",
    "reading",
    "writing",
)
LANG_SENTENCES = {  # short ones too: sentence floors with word caps
    "es": (
        "Nosotros vamos a la playa mañana.",
        "Me gusta mucho este lugar tranquilo.",
        "El sol brilla hoy.",
        "Ellos trabajan juntos todos los días.",
        "El perro come su comida en la cocina.",
        "La casa es muy bonita.",
    ),
    "fr": (
        "Nous allons à la plage demain matin.",
        "Le chat dort toujours sur le canapé.",
        "Il fait très beau.",
        "Elle aime beaucoup les fleurs du jardin.",
        "Les enfants jouent dans la cour de l'école.",
        "Nous aimons le jardin.",
    ),
    "de": (
        "Wir gehen morgen mit den Kindern spazieren.",
        "Der Hund schläft gern auf dem Sofa.",
        "Das Wetter ist schön.",
        "Ich bin heute wirklich sehr glücklich.",
        "Sie liest jeden Abend ein gutes Buch.",
        "Wir lieben den Garten.",
    ),
    "it": (
        "Noi andiamo al mare domani mattina.",
        "Il gatto dorme sempre sul divano.",
        "Oggi fa molto caldo.",
        "Sono molto felice di essere qui oggi.",
        "Questi bambini giocano nel giardino della scuola.",
        "La casa è molto bella.",
    ),
    "pt": (
        "Nós vamos à praia amanhã de manhã.",
        "Meu gato dorme sempre no sofá da sala.",
        "O sol brilha hoje.",
        "Estou muito feliz de estar aqui hoje.",
        "Ela gosta muito das flores do jardim.",
        "A casa é muito bonita.",
    ),
}
LANG_WORDS = {
    "es": ("sol", "casa", "flores", "camino", "amigos", "ciudad", "jardín", "mañana"),
    "fr": ("soleil", "maison", "fleurs", "chemin", "amis", "ville", "jardin", "matin"),
    "de": ("sonne", "haus", "blumen", "weg", "freunde", "stadt", "garten", "morgen"),
    "it": ("sole", "casa", "fiori", "strada", "amici", "città", "giardino", "mattina"),
    "pt": ("sol", "casa", "flores", "caminho", "amigos", "cidade", "jardim", "manhã"),
}


class Witness:
    """A response that satisfies every constraint of a prompt, built from the constraints alone:
    the bits each item requires (keywords, headers, lists, the end phrase...) around short filler
    sentences that avoid whatever an item limits (forbidden words, phrases and characters, a rare
    letter, the keyword of a "less than" count, commas). A few counts (filler words and sentences,
    copies of a counted phrase, English clauses for langdetect) are adjusted by measuring the text."""

    def __init__(self, constraints: list[dict]):
        self.cs = {c_["instruction_id"]: c_["kwargs"] for c_ in constraints}
        self.lang = self.get("language", {}).get("language")
        avoid = self._avoided()
        ok = lambda text: not any(p.search(text) for p in avoid)  # noqa: E731
        self.sentences = [s for s in (LANG_SENTENCES[self.lang] if self.lang else EN_SENTENCES) if ok(s)]
        self.words = [w for w in (LANG_WORDS[self.lang] if self.lang else EN_WORDS) if ok(w)]
        assert len(self.sentences) >= 4 and len(self.words) >= 8, constraints
        self.clauses, self.offset = 2, 0  # which sentences open the reply (others when langdetect hesitates)
        self.pad_words = self.pad_sentences = 0
        self.copies = self.get("phrase_count", {}).get("min_count", 0)  # of the counted phrase
        self.sentence_cap = self.get("sentence_words", {}).get("max_words")
        line_length = self.get("line_length", {}).get("max_characters")
        self.width = line_length - 12 if line_length else None  # room for a first word, quotes, a tag

    def has(self, name: str) -> bool:
        return ID[name] in self.cs

    def get(self, name: str, default=None):
        return self.cs.get(ID[name], default)

    def _avoided(self) -> list[re.Pattern]:
        """What filler must not contain."""
        literal = lambda s: re.compile(re.escape(s), re.I)  # noqa: E731
        avoid = [re.compile(rf"\b{re.escape(w)}\b", re.I) for w in self.get("forbidden", {}).get("forbidden_words", [])]
        if self.get("frequency", {}).get("relation") == "less than":
            avoid.append(literal(self.get("frequency")["keyword"]))
        if self.get("letter", {}).get("let_relation") == "less than":
            avoid.append(literal(self.get("letter")["letter"]))
        avoid += map(literal, self.get("forbidden_phrases", {}).get("phrases", []))
        avoid += map(literal, self.get("in_order", {}).get("phrases", []))  # only where the order puts them
        avoid += map(literal, [self.get("phrase_count", {}).get("phrase")] if self.has("phrase_count") else [])
        avoid += map(literal, self.get("forbidden_chars", {}).get("characters", ""))
        return avoid

    def word(self, i: int) -> str:
        return self.words[i % len(self.words)]

    def sentence(self, i: int) -> str:
        return self.sentences[i % len(self.sentences)]

    def extras(self) -> list[str]:
        """The tokens the items want somewhere in the text."""
        out = list(self.get("existence", {}).get("keywords", []))
        freq = self.get("frequency")
        if freq and freq["relation"] == "at least":
            out += [freq["keyword"]] * freq["frequency"]
        letter = self.get("letter")
        if letter and letter["let_relation"] == "at least":
            richest = sorted(self.words, key=lambda w: -w.count(letter["letter"]))[:3]
            chosen = []
            while sum(w.count(letter["letter"]) for w in chosen) < letter["let_frequency"]:
                chosen.append(richest[len(chosen) % 3])
            out += chosen
        capitals = self.get("capital_words")
        if capitals and capitals["capital_relation"] == "at least":
            out += [self.word(i).upper() for i in range(capitals["capital_frequency"])]
        out += [f"[{self.word(i + 5)}]" for i in range(self.get("placeholders", {}).get("num_placeholders", 0))]
        if self.has("phrase_count"):
            out += [self.get("phrase_count")["phrase"]] * self.copies
        return out

    # the text

    def body(self, variant: int) -> list[list[str]]:
        """The opening sentences, each a list of units (words, or phrases kept on one line)."""
        lead = [self.get("start_with")["phrase"]] if self.has("start_with") else []
        lead += self.get("in_order", {}).get("phrases", [])  # first mentions, right after the opening
        clauses = self.emphasized([self.sentence(variant + self.offset + k).split() for k in range(self.clauses)])
        tail = [self.word(i + 7) for i in range(self.pad_words)] + self.extras()
        pads = [self.sentence(variant + 2 + i) for i in range(self.pad_sentences)]
        if self.sentence_cap:  # short sentences: the lead, each clause and chunks of the tail apart
            size = self.sentence_cap - 2
            sentences = ([lead] if lead else []) + clauses
            sentences += [tail[k : k + size] for k in range(0, len(tail), size)]
        elif self.lang:
            sentences = [lead + clauses[0] + clauses[1] + tail]
        else:  # one sentence: "We tried it together and the idea feels simple ..."
            joined = [clauses[0][:-1] + [clauses[0][-1].rstrip(".")]]
            for clause in clauses[1:]:
                joined.append(["and", clause[0].lower(), *clause[1:-1], clause[-1].rstrip(".")])
            sentences = [lead + [unit for units in joined for unit in units] + tail]
        sentences += [s_.split() for s_ in pads]
        if self.has("constrained"):
            sentences.append([vocabulary.CONSTRAINED_OPTIONS[1]])
        return [units[:-1] + [units[-1].rstrip(".") + "."] for units in sentences if units]

    def emphasized(self, clauses: list[list[str]]) -> list[list[str]]:
        """The clauses with every other word (from the second on) in *asterisks*, as many as
        the highlights item wants."""
        wanted = self.get("highlights", {}).get("num_highlights", 0)
        out, k = [], 0
        for clause in clauses:
            out.append([])
            for word in clause:
                if k % 2 and k // 2 < wanted:
                    core = word.rstrip(".")
                    word = f"*{core}*" + word[len(core) :]
                out[-1].append(word)
                k += 1
        return out

    def lines(self, units: list[str]) -> list[str]:
        """The units on one line, or wrapped to the width (a highlight stays with the word
        before it: a line opening with "*" would be a bullet)."""
        if not self.width:
            return [" ".join(units)]
        glued = []
        for unit in units:
            if glued and unit.startswith("*"):
                glued[-1] += " " + unit
            else:
                glued.append(unit)
        units = glued
        lines = [units[0]]
        for unit in units[1:]:
            if len(lines[-1]) + 1 + len(unit) <= self.width:
                lines[-1] += " " + unit
            else:
                lines.append(unit)
        return lines

    def blocks(self, variant: int) -> list[str]:
        """The lines after the opening: lists, a table, sections, headings."""
        w = self.word
        out = []
        if self.has("bullets"):
            out += [f"* {w(i)} {w(i + 1)}" for i in range(self.get("bullets")["num_bullets"])]
        if self.has("bullets_between"):
            out += [f"- {w(i)} {w(i + 1)}" for i in range(self.get("bullets_between")["min_bullets"])]
        if self.has("numbered"):
            out += [f"{i}. {w(i)} {w(i + 1)}" for i in range(1, self.get("numbered")["num_items"] + 1)]
        if self.has("table"):
            columns, rows = self.get("table")["num_columns"], self.get("table")["num_rows"]
            row = lambda cells: "| " + " | ".join(cells) + " |"  # noqa: E731
            out += [row([w(k).capitalize() for k in range(columns)]), row(["---"] * columns)]
            out += [row([w(i + k) for k in range(columns)]) for i in range(1, rows + 1)]
            out.append(self.sentence(variant + 1))  # a closing quote or an end phrase would join the last row
        if self.has("sections"):
            for i in range(1, self.get("sections")["num_sections"] + 1):
                out += [f"{self.get('sections')['section_spliter']} {i}", self.sentence(variant + i)]
        for i in range(self.get("headings", {}).get("min_headings", 0)):
            out += [f"# {w(i + 2).capitalize()} {w(i + 4)}", self.sentence(variant + i)]
        return out

    def answer(self, variant: int) -> str:
        first = self.lines([unit for units in self.body(variant) for unit in units])
        paragraphs = ["\n".join(first + self.blocks(variant))]
        count = max(
            self.get("paragraphs", {}).get("num_paragraphs", 1),
            self.get("nth_paragraph", {}).get("num_paragraphs", 1),
            self.get("paragraphs_between", {}).get("min_paragraphs", 1),
        )
        paragraphs += [self.sentence(variant + 3 + i) for i in range(count - 1)]
        if self.has("nth_paragraph"):
            n, word = self.get("nth_paragraph")["nth_paragraph"], self.get("nth_paragraph")["first_word"]
            paragraphs[n - 1] = word.capitalize() + " " + paragraphs[n - 1][0].lower() + paragraphs[n - 1][1:]
        if self.has("title"):
            paragraphs[0] = f"<<{self.word(2).capitalize()} {self.word(4).capitalize()}>>\n" + paragraphs[0]
        if self.has("repeat"):
            paragraphs[0] = self.get("repeat")["prompt_to_repeat"] + "\n" + paragraphs[0]
        if self.has("postscript"):
            paragraphs[-1] += f"\n{self.get('postscript')['postscript_marker']} {self.word(6)} {self.word(1)}."
        if self.has("end"):
            paragraphs[-1] += ("\n" if self.width else " ") + self.get("end")["end_phrase"]
        return ("\n***\n" if self.has("paragraphs") else "\n\n").join(paragraphs)

    def text(self) -> str:
        if self.has("json") or self.has("json_keys"):
            keys = self.get("json_keys", {}).get("keys") or [self.word(0)]
            value = {key: self.answer(0) if k == 0 else self.word(k) for k, key in enumerate(keys)}
            text = json.dumps(value, ensure_ascii=False)
        elif self.has("xml"):
            root = self.get("xml")["root"]
            text = f"<{root}>\n{xml_escape(self.answer(0))}\n</{root}>"
        elif self.has("two_responses"):
            text = self.answer(0) + "\n******\n" + self.answer(1)
        else:
            text = self.answer(0)
        if self.has("quotation"):
            text = f'"{text}"'
        if self.has("lowercase"):
            text = text.lower()
        if self.has("capital"):
            text = text.upper()
        return text

    def floor(self, name: str, key: str, relation: str | None = None) -> int:
        """kwargs[key] of the item when it is a minimum (with the given relation), else 0."""
        kwargs = self.get(name)
        return 0 if kwargs is None or relation not in (None, kwargs.get("relation")) else kwargs[key]

    def build(self) -> str:
        min_words = max(self.floor("number_words", "num_words", "at least"), self.floor("words_between", "min_words"))
        min_sentences = max(
            self.floor("sentences", "num_sentences", "at least"), self.floor("sentences_between", "min_sentences")
        )
        count = self.get("phrase_count")
        # the case checkers also want langdetect to call the text English: other or more opening sentences
        for clauses, offset in itertools.product(range(2, 10), range(len(self.sentences))):
            self.clauses, self.offset = clauses, offset
            self.pad_words = self.pad_sentences = 0
            for _ in range(20):
                text = self.text()
                short_words = min_words - len(re.findall(r"\w+", text))
                short_sentences = min_sentences - len(sentence_spans(text)) if min_sentences else 0
                found = text.lower().count(count["phrase"].lower()) if count else 0
                extra = max(count["min_count"] - found, 0) - max(found - count["max_count"], 0) if count else 0
                if short_words <= 0 and short_sentences <= 0 and not extra:
                    break
                self.copies = max(self.copies + extra, 0)
                if short_sentences > 0:  # sentences first: they bring words too
                    self.pad_sentences += short_sentences
                elif not extra:
                    self.pad_words += max(short_words, 0)
            if not (self.has("lowercase") or self.has("capital")) or detect_language(text) in ("en", None):
                break
        return text


def witness(prompt: dict) -> str:
    return Witness(prompt["constraints"]).build()


WITNESS_SEEDS = (0, 1, 2)


def test_witnesses_pass_every_constraint():
    """Compatible means satisfiable: for 450 prompts with up to 6 items of any kind, a response
    built from the constraints passes all of them (and IFEval's kinds alone, and the easy demo
    setting too). Run offline on 9,000 prompts with up to 3 items, 60,000 with up to 6, 12,000
    with up to 10 and 20,000 with up to 30 (kinds="all"), and 30,000 IFEval-only ones with up to
    6: no failure."""
    prompts = [p for seed in WITNESS_SEEDS for p in generate_prompts(150, seed=seed, max_constraints=6)]
    prompts += generate_prompts(150, seed=9, max_constraints=6, kinds="ifeval")
    prompts += generate_prompts(150, seed=9, max_constraints=3)
    failures, seen = [], collections.Counter()
    for p in prompts:
        response = witness(p)
        for c_ in p["constraints"]:
            seen[c_["instruction_id"]] += 1
            if not check(c_["instruction_id"], c_["kwargs"], response, prompt=p["prompt"]).passed:
                failures.append((c_["instruction_id"], c_["kwargs"], p["prompt"], response))
    assert not failures, failures[:3]
    assert set(seen) == set(POOL)


@pytest.mark.parametrize("instruction_id", sorted(POOL))
def test_witness_for_each_id_alone_and_with_the_easy_items(instruction_id):
    """Every id, with kwargs as drawn, is satisfiable alone and next to each compatible easy item."""
    ctx = instructions.Context("coffee", TOPICS["coffee"], "Write a short note about coffee.")
    rng = builtin.random.Random(instruction_id)
    for _ in range(5):
        item = {"instruction_id": instruction_id, "kwargs": SPECS[instruction_id].sample(ctx, rng)}
        groups = [[item]] + [[item, e] for e in _easy_items() if compatible([item, e])]
        for group in groups:
            response = witness({"prompt": ctx.task, "constraints": group})
            for c_ in group:
                assert check(c_["instruction_id"], c_["kwargs"], response).passed, (group, response)


def _easy_items() -> list[dict]:
    return [
        c("no_comma"),
        c("existence", keywords=["beans"]),
        c("number_words", num_words=60, relation="less than"),
        c("lowercase"),
        c("end", end_phrase="Hope this helps."),
        c("title"),
        c("postscript", postscript_marker="P.P.S"),
    ]


def test_constraint_items_are_one_rule_item_per_constraint():
    from rtt.data.items import constraint_items
    from rtt.judge.rule import judge_item

    prompts = generate_prompts(5, seed=3)
    items = constraint_items(prompts)
    assert list(items) == [p["prompt_id"] for p in prompts]
    for p in prompts:
        got = items[p["prompt_id"]]
        assert [(i.index, i.text, i.checker, i.kwargs, i.kind) for i in got] == [
            (k, c["text"], c["instruction_id"], c["kwargs"], "rule") for k, c in enumerate(p["constraints"])
        ]
        assert all(judge_item(i, "Some answer.", p["prompt"])[0] in (1, -1) for i in got)  # each has a checker
