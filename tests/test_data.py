"""Spec records: validation errors name file, line and field; CoNLL both ways; packing."""
import json

import pytest

from rasd.data import (RecordError, conll_to_records, pack_records, read_conll, read_records, records_to_conll,
                       validate_record, write_conll, write_records)


def _write(path, lines):
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


@pytest.mark.parametrize("record, field, words", [
    ({"id": "a"}, "text", "required"),
    ({"text": "abc", "entities": [{"start": 2, "end": 9, "label": "LOCATION"}]}, "entities[0]", "len(text)=3"),
    ({"text": "abc", "entities": [{"start": 2, "end": 2, "label": "LOCATION"}]}, "entities[0]", "start < end"),
    ({"text": "abcdef", "entities": [{"start": 0, "end": 3, "label": "LOCATION"},
                                     {"start": 2, "end": 4, "label": "AGENCY"}]}, "entities[1]", "overlaps"),
    ({"text": "abc", "entities": [{"start": 0, "end": 1, "label": "PERSON"}]}, "entities[0].label", "PERSON"),
    ({"text": "abc", "operations": ["RAID", "SHELLING"]}, "operations", "SHELLING"),
    ({"text": "abc", "operations": ["RAID", "RAID"]}, "operations", "duplicates"),
    ({"text": "abc", "entities": [{"start": "0", "end": 1, "label": "AGENCY"}]}, "entities[0]", "integers"),
])
def test_validation_errors_name_the_field(record, field, words):
    with pytest.raises(RecordError) as err:
        validate_record(record, "f.jsonl:7")
    assert err.value.field == field
    assert "f.jsonl:7" in str(err.value) and words in str(err.value)


def test_read_records_reports_every_bad_line_and_keeps_good_ones(tmp_path):
    path = _write(tmp_path / "x.jsonl", [
        json.dumps({"id": "1", "text": "نص", "operations": []}),
        "{not json",
        json.dumps({"id": "3", "text": "نص", "operations": ["BOMBING"]}),
        json.dumps({"id": "4", "text": "نص آخر"}),
    ])
    good, errors = read_records(path, on_error="skip")
    assert [r["id"] for r in good] == ["1", "4"]
    assert [(e.where, e.field) for e in errors] == [(f"{path}:2", "<json>"), (f"{path}:3", "operations")]
    with pytest.raises(RecordError, match="2 bad record"):
        read_records(path, on_error="raise")


def test_conll_round_trip(tmp_path):
    records = [{"id": "s", "text": "قصفت قوات التحالف الدولي مواقع داعش في الرقة .",
                "entities": [{"start": 5, "end": 24, "label": "AGENCY"}, {"start": 31, "end": 35, "label": "ARMED_GROUP"},
                             {"start": 39, "end": 44, "label": "LOCATION"}]}]
    sentences = records_to_conll(records)
    assert [t for _, t in sentences[0]] == ["O", "B-AGENCY", "I-AGENCY", "I-AGENCY", "O", "B-ARMED_GROUP", "O",
                                           "B-LOCATION", "O"]
    write_conll(tmp_path / "x.conll", sentences)
    back = conll_to_records(read_conll(tmp_path / "x.conll"), "x")
    assert back[0]["text"] == records[0]["text"] and back[0]["entities"] == records[0]["entities"]
    assert write_records(tmp_path / "y.jsonl", back) == 1


def test_read_conll_rejects_non_iob2(tmp_path):
    path = _write(tmp_path / "bad.conll", ["كلمة O", "أخرى X-LOC"])
    with pytest.raises(RecordError, match=r"bad.conll:2: field 'label'"):
        read_conll(path)


def test_pack_records_shifts_offsets_and_keeps_articles():
    a = {"id": "a", "text": "في بغداد", "entities": [{"start": 3, "end": 8, "label": "LOCATION"}], "licence": "L"}
    b = {"id": "b", "text": "وزارة الدفاع", "entities": [], "ignore": [{"start": 0, "end": 12}], "licence": "L"}
    c = {"id": "c", "text": "خبر", "operations": []}
    packed = pack_records([a, b, c], max_words=10)
    assert len(packed) == 2 and c in packed
    (joined,) = [r for r in packed if r is not c]
    text = joined["text"]
    assert text[joined["entities"][0]["start"]:joined["entities"][0]["end"]] == "بغداد"
    assert text[joined["ignore"][0]["start"]:joined["ignore"][0]["end"]] == "وزارة الدفاع"
    validate_record(joined, "packed")
    assert joined["licence"] == "L"  # provenance survives packing; records of other licences are not joined
    assert len(pack_records([a, {**b, "licence": "M"}], max_words=10)) == 2
