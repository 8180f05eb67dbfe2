"""Normalisation with its offset map, the word tokenizer, and span <-> IOB2 conversion."""
from rasd.text import Normalisation, normalise, spans_to_tags, tags_to_spans, word_tags_for_text, words


def test_normalise_removes_marks_and_maps_back():
    text = "\u200eقالَ الجيشُ \u200f«داعـــش» \u0623\u0646 \u0625\u0644\u0649"
    norm = normalise(text)
    assert norm.text == "قال الجيش «داعش» ان الي"
    assert len(norm.offsets) == len(norm.text)
    for i, ch in enumerate(norm.text):
        original = text[norm.offsets[i]]
        assert original == ch or (ch == "ا" and original in "أإآ") or (ch == "ي" and original == "ى")


def test_folding_is_switchable():
    text = "أمة إلى"
    assert normalise(text, Normalisation(fold_alef=False, fold_ya=False)).text == "أمة إلى"
    assert normalise(text, Normalisation(fold_ta_marbuta=True)).text == "امه الي"


def test_span_round_trip_keeps_trailing_diacritic_and_skips_bidi_marks():
    text = "\u200eفي \u200eالرقةِ اليوم"
    norm = normalise(text)
    start = norm.text.index("الرقة")
    s, e = norm.to_original(start, start + len("الرقة"))
    assert text[s:e] == "الرقةِ"  # the final kasra belongs to the word
    assert norm.to_normalised(s, e) == (start, start + 5)
    assert norm.to_normalised(0, 1) is None  # a lone U+200E has nothing left after normalisation


def test_words_split_arabic_punctuation():
    text = "قال: «داعش»، وهيئة تحرير الشام؛ لماذا؟ “نعم” 3.5"
    got = [text[s:e] for s, e in words(text)]
    assert got == ["قال", ":", "«", "داعش", "»", "،", "وهيئة", "تحرير", "الشام", "؛", "لماذا", "؟", "“", "نعم", "”",
                   "3", ".", "5"]


def test_spans_to_tags_clitic_and_punctuation():
    text = "هاجم بدير الزور «داعش» ."
    offsets = words(text)
    spans = [{"start": 6, "end": 15, "label": "LOCATION"}, {"start": 17, "end": 21, "label": "ARMED_GROUP"}]
    assert text[6:15] == "دير الزور" and text[17:21] == "داعش"
    tags = spans_to_tags(offsets, spans)
    # the clitic ب sits inside the word «بدير»: the word overlaps the span, so it takes B-
    assert tags == ["O", "B-LOCATION", "I-LOCATION", "O", "B-ARMED_GROUP", "O", "O"]
    back = tags_to_spans(offsets, tags)
    assert [(text[s["start"]:s["end"]], s["label"]) for s in back] == [("بدير الزور", "LOCATION"),
                                                                      ("داعش", "ARMED_GROUP")]


def test_tags_to_spans_is_strict_about_stray_inside_tags():
    offsets = [(0, 1), (2, 3), (4, 5), (6, 7)]
    spans = tags_to_spans(offsets, ["I-AGENCY", "I-AGENCY", "B-LOCATION", "I-AGENCY"])
    assert [(s["words"], s["label"]) for s in spans] == [((0, 2), "AGENCY"), ((2, 3), "LOCATION"), ((3, 4), "AGENCY")]


def test_word_tags_for_text_marks_ignored_words():
    text = "زار وزير الخارجية بغداد"
    spans = [{"start": 19, "end": 24, "label": "LOCATION"}, {"start": 4, "end": 18, "label": None}]
    _, _, tags, ignored = word_tags_for_text(text, spans)
    assert tags == ["O", "O", "O", "B-LOCATION"]
    assert ignored == [False, True, True, False]
