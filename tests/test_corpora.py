"""Tests of rasd.corpora: the transfer-corpus converters, their label maps and the leakage guard.

Most tests read the public corpora in ../shared/data (or $RASD_SOURCES) and skip when it is missing; the
synthetic test at the top runs everywhere.
"""
from __future__ import annotations

import os
from pathlib import Path

import pytest

from rasd.corpora import (
    MAP_VALUES, TRANSFER_CORPORA, check_no_leakage, load_transfer_corpus, source_label_counts)

REPO = Path(__file__).resolve().parents[1]
SOURCES = Path(os.environ.get("RASD_SOURCES", REPO / ".." / "shared" / "data"))
needs_sources = pytest.mark.skipif(
    not (SOURCES / "ner").is_dir(), reason=f"public corpora not found at {SOURCES} (set RASD_SOURCES)")
LRM = "\u200e"


def mentions(record: dict) -> tuple[list[tuple[str, str]], list[str]]:
    """(surface, label) of the entities and the surfaces of the ignore regions, for readable asserts."""
    text = record["text"]
    return ([(text[e["start"]:e["end"]], e["label"]) for e in record["entities"]],
            [text[g["start"]:g["end"]] for g in record["ignore"]])


def test_synthetic_anercorp_file(tmp_path: Path) -> None:
    conll = "بغداد B-LOC\nوقال O\nأحمد B-PERS\nعلي I-PERS\n O\nإن O\nوزارة B-ORG\nالدفاع I-ORG\n\nسوريا B-LOC\n"
    (tmp_path / "ner" / "anercorp").mkdir(parents=True)
    (tmp_path / "ner" / "anercorp" / "anercorp_train_reconstructed.conll").write_text(conll, encoding="utf-8")
    records = load_transfer_corpus("anercorp", "train", tmp_path)
    assert [r["id"] for r in records] == ["anercorp-train-000000", "anercorp-train-000001"]
    first = records[0]
    assert first["text"] == "بغداد وقال أحمد علي إن وزارة الدفاع"  # the empty token is dropped
    assert first["entities"] == [{"start": 0, "end": 5, "label": "LOCATION"}]
    assert mentions(first) == ([("بغداد", "LOCATION")], ["وزارة الدفاع"])  # ORG ignored, PERS left O
    assert first["source"] == "ANERcorp" and "operations" not in first


def test_synthetic_unknown_label_names_file_and_line(tmp_path: Path) -> None:
    (tmp_path / "ner" / "aqmar").mkdir(parents=True)
    (tmp_path / "ner" / "aqmar" / "dev.txt").write_text("بغداد B-LOC\nدجلة B-RIVER\n", encoding="utf-8")
    with pytest.raises(ValueError, match=r"dev\.txt:2: label 'B-RIVER'"):
        load_transfer_corpus("aqmar", "dev", tmp_path)


def test_leakage_guard() -> None:
    with pytest.raises(ValueError, match="NewsFANE"):
        check_no_leakage([("newsfane", "all")], [("anercorp", "test")])
    with pytest.raises(ValueError, match="NewsFANE"):
        check_no_leakage([("anercorp", "test"), ("aqmar", "train")], [("newsfane", "all")])
    with pytest.raises(ValueError, match="both sides"):
        check_no_leakage([("aqmar", "train")], [("aqmar", "train")])
    check_no_leakage([("anercorp", "train")], [("anercorp", "test")])
    check_no_leakage([("newsfane", "all"), ("wikifane", "all")], [("wojood", "test"), ("aqmar", "test")])


def test_maps_use_known_values() -> None:
    for corpus in TRANSFER_CORPORA.values():
        assert set(corpus.label_map.values()) <= MAP_VALUES


@pytest.fixture(scope="module")
def all_records() -> dict[tuple[str, str], list[dict]]:
    return {(name, split): load_transfer_corpus(name, split, SOURCES)
            for name, corpus in TRANSFER_CORPORA.items() for split in corpus.files}


@needs_sources
def test_anercorp_known_lines(all_records: dict) -> None:
    train = all_records[("anercorp", "train")][0]
    assert train["text"].startswith("فرانكفورت (د ب أ) أعلن اتحاد صناعة السيارات في ألمانيا")
    assert train["entities"][:2] == [{"start": 0, "end": 9, "label": "LOCATION"},
                                     {"start": 47, "end": 54, "label": "LOCATION"}]
    assert train["ignore"] == [{"start": 23, "end": 43}]  # اتحاد صناعة السيارات: ORG
    test = all_records[("anercorp", "test")][0]
    ents, ignored = mentions(test)
    assert ents[:2] == [("الصالحية", "LOCATION"), ("المفرق", "LOCATION")]
    assert "غيث الطراونة" in test["text"] and ignored == []  # a PERS is plain O


@needs_sources
def test_aqmar_known_line(all_records: dict) -> None:
    record = all_records[("aqmar", "train")][11]
    assert record["text"] == "في عام 1918 حررت قوات الثورة العربية دمشق بمساعدة من الإنكليز ."
    assert mentions(record) == ([("دمشق", "LOCATION")], ["قوات الثورة العربية"])


@needs_sources
def test_newsfane_known_line(all_records: dict) -> None:
    record = all_records[("newsfane", "all")][352]
    ents, ignored = mentions(record)
    bare = [(s.replace(LRM, ""), label) for s, label in ents]
    assert bare[:4] == [("سرايا القدس", "ARMED_GROUP"), ("حركة الجهاد الاسلامي", "ARMED_GROUP"),
                        ("الجيش الاسرائيلي", "AGENCY"), ("اسرائيل", "LOCATION")]
    assert record["entities"][2] == {"start": 136, "end": 154, "label": "AGENCY"}
    assert [s.replace(LRM, "") for s in ignored] == ["الفلسطينيون"]  # FANE Group: a nationality
    assert record["text"].startswith(LRM)  # text is kept exactly as in the file


@needs_sources
def test_wikifane_known_lines(all_records: dict) -> None:
    records = all_records[("wikifane", "all")]
    ents, _ = mentions(records[1557])
    assert [(s.replace(LRM, ""), label) for s, label in ents] == [("القاعدة", "ARMED_GROUP"), ("العراق", "LOCATION")]
    ents, ignored = mentions(records[524])
    assert (ents[2][0].replace(LRM, ""), ents[2][1]) == ("مرور الجيزة", "AGENCY")  # FANE Government
    assert [s.replace(LRM, "") for s in ignored] == ["كلية العلاج الطبيعى"]  # Educational


@needs_sources
def test_wojood_nested_and_designators(all_records: dict) -> None:
    records = all_records[("wojood", "train")]
    # «روسيا» is a Wojood ORG here (Russia acting), «مجلس الأمن ضد الأسد» an ORG wrapping a PERS: both ignored.
    assert mentions(records[0]) == ([], ["روسيا", "مجلس الأمن ضد الأسد"])
    # GPE «قضاء مدينة جنين» loses its designators (spec rule 3).
    assert mentions(records[6])[0] == [("اليامون", "LOCATION"), ("جنين", "LOCATION")]


@needs_sources
def test_maps_cover_every_label_in_the_files() -> None:
    for name, corpus in TRANSFER_CORPORA.items():
        for split in corpus.files:
            seen = set(source_label_counts(name, split, SOURCES))
            assert seen and seen <= set(corpus.label_map), (name, split, seen - set(corpus.label_map))


@needs_sources
def test_offsets_are_valid_everywhere(all_records: dict) -> None:
    for (name, split), records in all_records.items():
        assert records, (name, split)
        for r in records:
            text = r["text"]
            assert r["id"].startswith(f"{name}-{split}-") and "  " not in text
            regions = sorted([(e["start"], e["end"]) for e in r["entities"]] + [(g["start"], g["end"]) for g in r["ignore"]])
            for start, end in regions:
                span = text[start:end]
                assert 0 <= start < end <= len(text) and span.strip() == span, (r["id"], start, end)
                assert (start == 0 or text[start - 1] == " ") and (end == len(text) or text[end] == " "), r["id"]
            for (_, end), (start, _) in zip(regions, regions[1:]):
                assert end < start, (r["id"], "overlap")
            assert all(e["label"] in ("LOCATION", "AGENCY", "ARMED_GROUP") for e in r["entities"])
            assert set(r) == {"id", "text", "entities", "ignore", "source", "licence"}
