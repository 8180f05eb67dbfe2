"""Converters from public Arabic NER corpora to the project's entity records (transfer data for the tagger).

Each reader turns one corpus file into spec records (../shared/spec/labels.md), one per sentence:
``{"id", "text", "entities", "ignore", "source", "licence"}``. ``text`` is the file's words joined by single
spaces, untouched (U+200E marks, hamzas, diacritics stay: the project's normalisation runs later), and every
offset covers whole words. ``ignore`` holds the regions whose gold label maps to none of our types: the loss
must skip them, because training them as ``O`` would teach the model that, e.g., an ANERcorp ORG that is in
fact an armed group is not an entity.

Nested corpora (Wojood) are flattened outermost-first: an outer span that maps to one of our types or to
IGNORE wins over everything inside it (spec rule 7: the longest name, labelled as a whole); an outer span whose
type is certainly ``O`` (a person, an occupation, a date) is transparent, so a place named inside it still counts.
The reasoning behind every label map is in data/transfer_label_maps.md.
"""
from __future__ import annotations

import csv
import functools
import re
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from rasd.labels import ENTITY_TYPES

# Map values: one of our ENTITY_TYPES, "O", "IGNORE", or REVIEW = "decide by the reviewed surface lists in
# data/gazetteers (armed_groups.tsv, agencies.tsv); a surface not on them is IGNORE".
O, IGNORE, REVIEW = "O", "IGNORE", "REVIEW"
MAP_VALUES = frozenset(ENTITY_TYPES) | {O, IGNORE, REVIEW}

ANERCORP_MAP: dict[str, str] = {"LOC": "LOCATION", "PERS": O, "ORG": IGNORE, "MISC": IGNORE}
AQMAR_MAP: dict[str, str] = {"LOC": "LOCATION", "PER": O, "ORG": IGNORE, "MIS": IGNORE}

_FANE_PERSONS = ("Politician", "Athlete", "Artist", "Other_PER", "Religious_PER", "Scientist",
                 "Businessperson", "Lawyer", "Engineer")
_FANE_PLACES = ("Nation", "Population-Center", "State-or-Province", "County-or-District", "GPE-Cluster",
                "Continent", "Water-Body", "Land-Region-Natural", "Building-Grounds", "Airport", "Path")
_FANE_THINGS = ("Air", "Land", "Water", "Shooting", "Projectile", "Exploding", "Nuclear", "Blunt", "Sharp",
                "Chemical", "Book", "Movie", "Software", "Hardware", "Food", "Drug", "Plant", "Sound")
FANE_MAP: dict[str, str] = {
    **{t: O for t in _FANE_PERSONS + _FANE_THINGS},
    **{t: "LOCATION" for t in _FANE_PLACES},
    "Government": "AGENCY",
    "Non-Governmental": REVIEW,
    # Not ours but certainly not one of our types either (spec: media and everything else is O).
    "Media": O, "Sports": O, "Commercial": O, "Entertainment": O,
    # May hide one of ours (state research/religious bodies are AGENCY, hospitals and rooms are places,
    # Group = nationalities and communities incl. الحوثيين, Police = persons per SOURCE.md): IGNORE.
    "Group": IGNORE, "Police": IGNORE, "Educational": IGNORE, "Religious_ORG": IGNORE,
    "Medical-Science": IGNORE, "Subarea-Facility": IGNORE, "Celestial": IGNORE,
}
WOJOOD_MAP: dict[str, str] = {
    "GPE": "LOCATION", "LOC": "LOCATION", "FAC": "LOCATION",
    # ORG mixes ministries and armed groups, NORP wraps «عناصر داعش», EVENT holds operations (AGENCY per spec).
    "ORG": IGNORE, "NORP": IGNORE, "EVENT": IGNORE,
    **{t: O for t in ("PERS", "OCC", "DATE", "TIME", "CARDINAL", "ORDINAL", "PERCENT", "MONEY", "CURR",
                      "QUANTITY", "UNIT", "LANGUAGE", "PRODUCT", "WEBSITE", "LAW")},
}


@dataclass(frozen=True)
class TransferCorpus:
    """Where a corpus lives under the sources folder, how its lines are laid out and under which terms."""

    files: dict[str, str]  # split -> path relative to sources_dir
    fmt: str  # "conll" (token label), "fane" (token<TAB>label), "wojood" (token tag tag ...)
    label_map: dict[str, str]
    source: str
    licence: str


TRANSFER_CORPORA: dict[str, TransferCorpus] = {
    "anercorp": TransferCorpus(
        {"train": "ner/anercorp/anercorp_train_reconstructed.conll",
         "test": "ner/anercorp/anercorp_test_reconstructed.conll"},
        "conll", ANERCORP_MAP, "ANERcorp", "research use; CAMeL Lab redistribution CC BY-SA 4.0"),
    "aqmar": TransferCorpus(
        {s: f"ner/aqmar/{s}.txt" for s in ("train", "dev", "test")},
        "conll", AQMAR_MAP, "AQMAR", "CC BY-SA 3.0"),
    # The FANE files have no split of their own: the whole file is split "all".
    "newsfane": TransferCorpus(
        {"all": "ner/fane/NewsFANE_Gold_2014_170K.txt"}, "fane", FANE_MAP, "NewsFANE Gold", "CC BY-SA 3.0"),
    "wikifane": TransferCorpus(
        {"all": "ner/fane/WikiFANE_Gold_2014_500K.txt"}, "fane", FANE_MAP, "WikiFANE Gold", "CC BY-SA 3.0"),
    "wojood": TransferCorpus(
        {s: f"ner/wojood_sample/{s}.txt" for s in ("train", "val", "test")},
        "wojood", WOJOOD_MAP, "Wojood (public sample)", "MIT"),
}

# Spec rule 3: designators before a place name are not part of it («مدينة البيرة» → «البيرة»).
DESIGNATORS = frozenset("محافظة مدينة قرية بلدة منطقة ناحية قضاء ريف حي نهر".split())
# Spec rule 5 and decisions: bare generic mentions are O even where a corpus tagged them as an organisation.
GENERIC_ORG_SURFACES = frozenset(
    ["التحالف", "قوات النظام", "القوات الحكومية", "الجيش", "الشرطة", "النيابة", "المحكمة", "القوات",
     "القوات الامنية", "التنظيم", "الحكومة", "البرلمان"])
# Safe only inside a span the corpus already marks as an organisation (as bare text «القاعدة» is also "the
# base", «الجمعية العامة» any general assembly), so they live here and not in the gazetteers.
ORG_CONTEXT_ONLY: dict[str, str] = {
    "القاعدة": "ARMED_GROUP", "النصرة": "ARMED_GROUP", "المقاومة الاسلامية": "ARMED_GROUP",
    "الجهاد الاسلامي": "ARMED_GROUP", "الجمعية العامة": "AGENCY", "الوكالة الذرية": "AGENCY",
}
GAZETTEER_DIR = Path(__file__).resolve().parents[2] / "data" / "gazetteers"

_STRIP = re.compile("[\u200e\u200f\u0640\u064b-\u0652\u0670]")  # direction marks, tatweel, diacritics
_ALEFS = str.maketrans("أإآٱ", "اااا")
Span = tuple[int, int, str]  # first word, last word + 1, our label (or IGNORE / O)


def surface_key(text: str) -> str:
    """Matching key for surface lists only (never for record text): FANE writes no hamza and marks every token."""
    return " ".join(_STRIP.sub("", text).translate(_ALEFS).split())


def _key_variants(key: str) -> list[str]:
    """The key and the key without an attached proclitic on its first word («للامم المتحدة» → «الامم ...»)."""
    variants = [key]
    for _ in range(2):  # at most two clitics, e.g. و + ل
        head = variants[-1]
        if head.startswith("لل") and len(head.split(" ")[0]) > 3:
            variants.append("ال" + head[2:])
        elif head[:1] in ("و", "ف", "ب", "ل", "ك") and len(head.split(" ")[0]) > 3:
            variants.append(head[1:])
    return variants


@functools.cache
def reviewed_org_surfaces(gazetteer_dir: Path = GAZETTEER_DIR) -> dict[str, str]:
    """Surface key -> ARMED_GROUP | AGENCY, from the reviewed gazetteers plus ORG_CONTEXT_ONLY."""
    table: dict[str, str] = {}
    for fname, label in (("armed_groups.tsv", "ARMED_GROUP"), ("agencies.tsv", "AGENCY")):
        path = gazetteer_dir / fname
        with path.open(encoding="utf-8", newline="") as f:
            for lineno, row in enumerate(csv.reader(f, delimiter="\t"), 1):
                if lineno == 1 or not row:
                    continue
                key = surface_key(row[0])
                if table.get(key, label) != label:  # one surface in both lists would make the map arbitrary
                    raise ValueError(f"{path}:{lineno}: surface {row[0]!r} is both {table[key]} and {label}")
                table[key] = label
    return {**table, **ORG_CONTEXT_ONLY}


def resolve_label(mapped: str, words: list[str]) -> str:
    """Final label of one gold mention whose source type maps to `mapped`, looking at its surface."""
    keys = _key_variants(surface_key(" ".join(words)))
    if mapped in ("AGENCY", "ARMED_GROUP", REVIEW) and any(k in GENERIC_ORG_SURFACES for k in keys):
        return O
    orgs = reviewed_org_surfaces()
    found = next((orgs[k] for k in keys if k in orgs), None)
    if mapped == REVIEW:
        return found or IGNORE
    if mapped == "LOCATION" and found:  # e.g. FANE GPE-Cluster «الاتحاد الاوروبي»: a body, not only a place
        return IGNORE
    return mapped


def _parse_tag(tag: str, where: str) -> tuple[str, str]:
    """'B-LOC' -> ('B', 'LOC'); 'O' -> ('O', '')."""
    if tag == "O":
        return "O", ""
    if len(tag) > 2 and tag[0] in "BI" and tag[1] == "-":
        return tag[0], tag[2:]
    raise ValueError(f"{where}: malformed tag {tag!r}")


def _read_sentences(path: Path, fmt: str) -> list[list[tuple[int, str, list[str]]]]:
    """Sentences as lists of (line number, token, tags), one tag per nesting layer (outermost first)."""
    sentences: list[list[tuple[int, str, list[str]]]] = []
    current: list[tuple[int, str, list[str]]] = []
    with path.open(encoding="utf-8-sig") as f:  # -sig: the FANE files start with a BOM
        for lineno, raw in enumerate(f, 1):
            line = raw.rstrip("\r\n")
            fields = line.split("\t") if fmt == "fane" else line.split(" ")
            if not line.strip() or (fmt == "wojood" and fields[0] == "$#$"):  # $#$: Wojood segment joint
                if current:
                    sentences.append(current)
                current = []
                continue
            if len(fields) < 2 or (fmt != "wojood" and len(fields) != 2) or "" in fields[1:]:
                raise ValueError(f"{path}:{lineno}: expected token and label(s), got {line!r}")
            if not fields[0]:  # ANERcorp has 191 empty tokens ("␣O"): no word, nothing to keep
                if fields[1:] != ["O"]:
                    raise ValueError(f"{path}:{lineno}: empty token with label {fields[1:]}")
                continue
            current.append((lineno, fields[0], fields[1:]))
    if current:
        sentences.append(current)
    return sentences


def _gold_spans(sentence: list[tuple[int, str, list[str]]], path: Path,
                label_map: dict[str, str]) -> list[tuple[int, int, str]]:
    """(first word, end word, source type) per gold mention, rebuilding each nesting column separately.

    An I- tag that does not continue a span of its type starts one (lenient IOB1 reading), as conlleval does.
    """
    spans: list[tuple[int, int, str]] = []
    open_spans: dict[int, list] = {}  # column -> [start, type]
    for i, (lineno, _, tags) in enumerate(sentence):
        for col in list(open_spans):
            if col >= len(tags) or tags[col] == "O" or tags[col].startswith("B-") \
                    or tags[col][2:] != open_spans[col][1]:
                start, typ = open_spans.pop(col)
                spans.append((start, i, typ))
        for col, tag in enumerate(tags):
            prefix, typ = _parse_tag(tag, f"{path}:{lineno}")
            if typ and typ not in label_map:
                raise ValueError(f"{path}:{lineno}: label {tag!r} is not in the label map")
            if prefix != "O" and col not in open_spans:
                open_spans[col] = [i, typ]
    spans.extend((start, len(sentence), typ) for start, typ in open_spans.values())
    return spans


def _flatten(gold: list[tuple[int, int, str]], words: list[str], label_map: dict[str, str],
             where: str) -> list[Span]:
    """Outermost-first flat spans: mapped-to-O spans are transparent, everything else covers its inside."""
    kept: list[Span] = []
    for start, end, typ in sorted(gold, key=lambda s: (s[0], -s[1])):
        label = resolve_label(label_map[typ], words[start:end])
        if label == O or any(a <= start and end <= b for a, b, _ in kept):
            continue
        if any(start < b and a < end for a, b, _ in kept):
            raise ValueError(f"{where}: crossing spans {typ} words {start}-{end}")
        kept.append((start, end, label))
    return kept


def _trim_designators(span: Span, words: list[str]) -> Span:
    """Drop leading place designators from a LOCATION span (spec rule 3), keeping at least one word."""
    start, end, label = span
    while label == "LOCATION" and end - start > 1 and any(
            k in DESIGNATORS for k in _key_variants(surface_key(words[start]))):
        start += 1
    return start, end, label


def _record(words: list[str], spans: list[Span], rec_id: str, corpus: TransferCorpus) -> dict:
    """One spec record: word spans become character offsets into the space-joined text."""
    offsets, pos = [], 0
    for w in words:
        offsets.append((pos, pos + len(w)))
        pos += len(w) + 1
    entities, ignore = [], []
    for start, end, label in spans:
        region = {"start": offsets[start][0], "end": offsets[end - 1][1]}
        (ignore if label == IGNORE else entities).append(region if label == IGNORE else {**region, "label": label})
    return {"id": rec_id, "text": " ".join(words), "entities": entities, "ignore": ignore,
            "source": corpus.source, "licence": corpus.licence}


def _corpus_file(name: str, split: str, sources_dir: Path) -> tuple[TransferCorpus, Path]:
    if name not in TRANSFER_CORPORA:
        raise ValueError(f"unknown corpus {name!r}; known: {sorted(TRANSFER_CORPORA)}")
    corpus = TRANSFER_CORPORA[name]
    if split not in corpus.files:
        raise ValueError(f"corpus {name!r} has no split {split!r}; splits: {sorted(corpus.files)}")
    return corpus, Path(sources_dir) / corpus.files[split]


def load_transfer_corpus(name: str, split: str, sources_dir: Path) -> list[dict]:
    """All sentences of one corpus split as spec records with `ignore` regions (see the module docstring)."""
    corpus, path = _corpus_file(name, split, sources_dir)
    records = []
    for sentence in _read_sentences(path, corpus.fmt):
        words = [token for _, token, _ in sentence]
        gold = _gold_spans(sentence, path, corpus.label_map)
        spans = _flatten(gold, words, corpus.label_map, f"{path}:{sentence[0][0]}")
        spans = [_trim_designators(s, words) for s in spans]
        records.append(_record(words, spans, f"{name}-{split}-{len(records):06d}", corpus))
    return records


def source_label_counts(name: str, split: str, sources_dir: Path) -> Counter:
    """Gold mentions per source type (all nesting layers), to check and document the label maps."""
    corpus, path = _corpus_file(name, split, sources_dir)
    counts: Counter = Counter()
    for sentence in _read_sentences(path, corpus.fmt):
        counts.update(typ for _, _, typ in _gold_spans(sentence, path, corpus.label_map))
    return counts


def check_no_leakage(train: list[tuple[str, str]], evaluation: list[tuple[str, str]]) -> None:
    """Raise ValueError if evaluation data leaks into training: the same (corpus, split) on both sides, or
    NewsFANE (ANERcorp re-annotated: ≥45% of ANERcorp test sentences occur in it) against any ANERcorp split."""
    shared = set(train) & set(evaluation)
    if shared:
        raise ValueError(f"(corpus, split) pairs on both sides: {sorted(shared)}")
    for one, other in ((train, evaluation), (evaluation, train)):
        if any(c == "newsfane" for c, _ in one) and any(c == "anercorp" for c, _ in other):
            raise ValueError("NewsFANE is ANERcorp re-annotated: never train on one and evaluate on the other")
