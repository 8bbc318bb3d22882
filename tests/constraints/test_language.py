import langdetect
from hypothesis import given, settings
from hypothesis import strategies as st

from rtt.constraints.language import detect_language


def test_detection_is_seeded_and_matches_langdetect_with_seed_zero(monkeypatch):
    texts = [
        "Le chat dort sur le canapé depuis ce matin.",
        "all good, 2 go!",
        "ALL GOOD!",
        "The cat has been asleep on the sofa since this morning.",
    ]
    ours = [detect_language(t) for t in texts]
    monkeypatch.setattr(langdetect.DetectorFactory, "seed", 0)
    assert ours == [langdetect.detect(t) for t in texts]
    assert ours[0] == "fr" and ours[3] == "en"
    detect_language.cache_clear()
    assert [detect_language(t) for t in texts] == ours  # fresh detections agree with the first


def test_undetectable_text_is_none():
    assert detect_language("123 456 !!") is None
    assert detect_language("") is None


LANGUAGE_PIECES = [
    "the cat",
    " sleeps",
    " le chat",
    " dort",
    " der Hund",
    " 猫",
    " кошка",
    " بيت",
    " ",
    ".",
    "!",
    "\n",
    "http://x.org",
    " ça",
    " über",
    " niño",
    " 123",
]


@settings(max_examples=300, deadline=None)
@given(st.one_of(st.text(max_size=80), st.lists(st.sampled_from(LANGUAGE_PIECES), max_size=20).map("".join)))
def test_fast_detector_answers_as_langdetect_itself(text):
    langdetect.DetectorFactory.seed = 0
    try:
        expected = langdetect.detect(text)
    except langdetect.LangDetectException:
        expected = None
    finally:
        langdetect.DetectorFactory.seed = None
    detect_language.cache_clear()
    assert detect_language(text) == expected
