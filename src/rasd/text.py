"""Arabic text handling shared by training, evaluation and inference.

One normalisation function (`normalise`) returns the normalised text together with an offset map back into the
original, so every span the model produces can be reported against the text exactly as published. One word
tokenizer (`words`) splits on whitespace and punctuation (Arabic punctuation included) and returns character
offsets. `spans_to_tags` / `tags_to_spans` convert between character spans and word-level IOB2 tags.
"""
from __future__ import annotations

import bisect
import re
from dataclasses import dataclass

# Harakat, Quranic marks, superscript alef: they change neither the word nor its entity label.
_DIACRITICS = set(chr(c) for c in [*range(0x0610, 0x061B), *range(0x064B, 0x0660), 0x0670, *range(0x06D6, 0x06DD),
                                  *range(0x06DF, 0x06E5), 0x06E7, 0x06E8, *range(0x06EA, 0x06EE)])
TATWEEL = "\u0640"
# Bidi controls and zero-width marks: NewsFANE puts U+200E before almost every token.
_INVISIBLE = set("\u200b\u200c\u200d\u200e\u200f\u061c\ufeff\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
_ALEF_FOLD = {"أ": "ا", "إ": "ا", "آ": "ا", "ٱ": "ا"}
_YA_FOLD = {"ى": "ي"}
_TA_MARBUTA_FOLD = {"ة": "ه"}


@dataclass(frozen=True)
class Normalisation:
    """Which foldings to apply. Removal of diacritics, tatweel and invisible marks is always on."""

    fold_alef: bool = True
    fold_ya: bool = True
    fold_ta_marbuta: bool = False


@dataclass(frozen=True)
class NormalisedText:
    """`text` as the model sees it; `offsets[i]` is the index in `original` of normalised character i."""

    original: str
    text: str
    offsets: tuple[int, ...]

    def to_original(self, start: int, end: int) -> tuple[int, int]:
        """Map a normalised span [start, end) to the original text.

        The end is pushed past removed marks that trail the last kept character (a final diacritic belongs to
        the word), so the original span covers the whole written word.
        """
        if not 0 <= start < end <= len(self.text):
            raise ValueError(f"span ({start}, {end}) is outside the normalised text of length {len(self.text)}")
        orig_start = self.offsets[start]
        orig_end = self.offsets[end - 1] + 1
        limit = self.offsets[end] if end < len(self.offsets) else len(self.original)
        while orig_end < limit and (self.original[orig_end] in _DIACRITICS or self.original[orig_end] == TATWEEL):
            orig_end += 1
        return orig_start, orig_end

    def to_normalised(self, start: int, end: int) -> tuple[int, int] | None:
        """Map an original span to the normalised text; None if nothing of it survives normalisation."""
        lo = bisect.bisect_left(self.offsets, start)
        hi = bisect.bisect_left(self.offsets, end)
        return (lo, hi) if hi > lo else None


def normalise(text: str, options: Normalisation = Normalisation()) -> NormalisedText:
    """Remove diacritics, tatweel and invisible marks; fold letters as `options` says; keep an offset map.

    NFKC is deliberately not applied: it rewrites Arabic presentation forms into several characters, which
    would break the one-character-to-one-position map. Every kept character maps to exactly one original one.
    """
    folds: dict[str, str] = {}
    if options.fold_alef:
        folds.update(_ALEF_FOLD)
    if options.fold_ya:
        folds.update(_YA_FOLD)
    if options.fold_ta_marbuta:
        folds.update(_TA_MARBUTA_FOLD)
    out: list[str] = []
    offsets: list[int] = []
    for i, ch in enumerate(text):
        if ch in _DIACRITICS or ch == TATWEEL or ch in _INVISIBLE:
            continue
        if ch == "\u00a0":  # no-break space: a plain space for the tokenizers
            ch = " "
        out.append(folds.get(ch, ch))
        offsets.append(i)
    return NormalisedText(original=text, text="".join(out), offsets=tuple(offsets))


# A word is a run of letters, digits and in-word marks; every other non-space character (Latin and Arabic
# punctuation such as « » “ ” ، ؛ ؟) is a word of its own.
_WORD_RE = re.compile(r"[\w" + "".join(sorted(_DIACRITICS)) + TATWEEL + r"\u200c\u200d]+|[^\w\s]", re.UNICODE)


def words(text: str) -> list[tuple[int, int]]:
    """Word tokens of `text` as (start, end) character offsets. `_` counts as punctuation."""
    out = []
    for m in _WORD_RE.finditer(text):
        s, e = m.span()
        # `\w` includes `_`; split it off so snake_case noise does not glue words together
        if "_" in m.group() and m.group() != "_":
            for sub in re.finditer(r"[^_]+|_", m.group()):
                out.append((s + sub.start(), s + sub.end()))
        else:
            out.append((s, e))
    return out


def spans_to_tags(word_offsets: list[tuple[int, int]], spans: list[dict]) -> list[str]:
    """IOB2 tag per word: a word that overlaps a span takes its label, `B-` on the first such word, `I-` after.

    `spans` are dicts with start/end/label, non-overlapping. A word overlapping two spans (a clitic joining two
    names) takes the first; the second then starts with its own B- on its next word, if any.
    """
    tags = ["O"] * len(word_offsets)
    j = 0
    spans = sorted(spans, key=lambda s: s["start"])
    for span in spans:
        first = True
        while j < len(word_offsets) and word_offsets[j][1] <= span["start"]:
            j += 1
        k = j
        while k < len(word_offsets) and word_offsets[k][0] < span["end"]:
            if tags[k] == "O":
                tags[k] = ("B-" if first else "I-") + span["label"]
                first = False
            k += 1
    return tags


def tags_to_spans(word_offsets: list[tuple[int, int]], tags: list[str]) -> list[dict]:
    """Character spans from IOB2 tags (strict: an `I-X` that does not continue an X starts a new span).

    Returns dicts with start/end/label and the word range (first_word, last_word + 1) as `words`.
    """
    spans: list[dict] = []
    current: dict | None = None
    for i, tag in enumerate(tags):
        kind, _, label = tag.partition("-")
        if kind == "I" and current is not None and current["label"] == label:
            current["end"] = word_offsets[i][1]
            current["words"] = (current["words"][0], i + 1)
            continue
        if current is not None:
            spans.append(current)
            current = None
        if kind in ("B", "I"):
            current = {"start": word_offsets[i][0], "end": word_offsets[i][1], "label": label, "words": (i, i + 1)}
    if current is not None:
        spans.append(current)
    return spans


def word_tags_for_text(text: str, spans: list[dict], options: Normalisation = Normalisation()):
    """Normalise `text`, tokenize it into words, and tag the words from original-offset `spans`.

    Returns (normalised, word offsets in the normalised text, tags, ignored) where `ignored[i]` is True for a word
    that overlaps an ignore region (spans whose label is None) and so must not be trained or scored as `O`.
    """
    norm = normalise(text, options)
    offsets = words(norm.text)
    labelled, ignore_regions = [], []
    for s in spans:
        mapped = norm.to_normalised(s["start"], s["end"])
        if mapped is None:
            continue
        target = ignore_regions if s.get("label") is None else labelled
        target.append({"start": mapped[0], "end": mapped[1], "label": s.get("label") or "IGNORE"})
    tags = spans_to_tags(offsets, labelled)
    ignore_tags = spans_to_tags(offsets, ignore_regions)
    ignored = [t != "O" and tags[i] == "O" for i, t in enumerate(ignore_tags)]
    return norm, offsets, tags, ignored
