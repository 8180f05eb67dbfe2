"""The project's annotations: valid standoff records, hashes that match the sources, a split that covers them."""
import json
from pathlib import Path

import pytest

from rasd.data import validate_record
from rasd.standoff import agreement, build, join_standoff, load_pool

from conftest import ROOT, SOURCES, needs_sources

ANNOTATIONS = ROOT / "data" / "annotations"
STANDOFF_FIELDS = {"id", "corpus", "source", "doc_id", "text_field", "text_sha256", "operations", "pass", "batch"}


def _standoff(name):
    return [json.loads(l) for l in open(ANNOTATIONS / name, encoding="utf-8") if l.strip()]


@pytest.mark.parametrize("name", ["pool_first_pass.jsonl", "pool_second_pass.jsonl"])
def test_annotation_files_are_standoff_and_valid(name):
    rows = _standoff(name)
    assert rows
    for number, row in enumerate(rows, start=1):
        assert "text" not in row, f"{name}:{number} carries text: the repo keeps standoff records only"
        assert STANDOFF_FIELDS <= set(row), f"{name}:{number} lacks {STANDOFF_FIELDS - set(row)}"
        # the spans and labels obey the spec; offsets are checked against the real text in the sources test
        longest = max([e["end"] for e in row.get("entities", [])] + [1])
        validate_record({"text": "x" * longest, **{k: row[k] for k in ("entities", "operations") if k in row}},
                        f"{name}:{number}")
    assert len({r["id"] for r in rows}) == len(rows)


def test_corpus_meets_the_counts_of_the_data_issue():
    first = _standoff("pool_first_pass.jsonl")
    assert len(first) >= 300
    assert sum("entities" in r for r in first) >= 120
    assert sum(not r["operations"] for r in first) > 0  # articles whose answer is none are included
    second = _standoff("pool_second_pass.jsonl")
    assert len(second) >= 0.1 * len(first) and {r["id"] for r in second} <= {r["id"] for r in first}


def test_split_covers_every_article_exactly_once():
    first = _standoff("pool_first_pass.jsonl")
    split = json.loads((ROOT / "data" / "splits" / "split.json").read_text())
    train, dev = split["train"], split["dev"]
    assert len(train) == len(set(train)) and len(dev) == len(set(dev)) and not set(train) & set(dev)
    assert set(train) | set(dev) == {r["id"] for r in first}
    full = {r["id"] for r in first if "entities" in r}
    assert len(full & set(dev)) >= 60


@needs_sources
def test_hashes_match_the_sources_and_offsets_fit():
    pool = load_pool(SOURCES)
    for name in ("pool_first_pass.jsonl", "pool_second_pass.jsonl"):
        records, errors = join_standoff(ANNOTATIONS / name, pool)
        assert not errors, errors[:3]
        assert len(records) == len(_standoff(name))
        for r in records:
            for e in r.get("entities", []):
                surface = r["text"][e["start"]:e["end"]]
                assert surface == surface.strip() and surface, (r["id"], surface)


@needs_sources
def test_a_changed_source_text_is_a_clear_error(tmp_path):
    row = _standoff("pool_first_pass.jsonl")[0]
    row["text_sha256"] = "0" * 64
    path = tmp_path / "x.jsonl"
    path.write_text(json.dumps(row) + "\n")
    _, errors = join_standoff(path, load_pool(SOURCES))
    assert len(errors) == 1 and errors[0].field == "text_sha256" and f"{path}:1" in str(errors[0])


@needs_sources
def test_data_build_writes_every_corpus(tmp_path):
    summary = build(SOURCES, tmp_path, ANNOTATIONS, ROOT / "data" / "splits" / "split.json")
    assert summary["indomain_train"] + summary["indomain_dev"] == len(_standoff("pool_first_pass.jsonl"))
    assert summary["transfer/anercorp_test"] > 900
    first = [json.loads(l) for f in ("indomain_train.jsonl", "indomain_dev.jsonl")
             for l in open(tmp_path / f, encoding="utf-8")]
    second = [json.loads(l) for l in open(tmp_path / "second_pass.jsonl", encoding="utf-8")]
    report = agreement(first, second)
    assert report["articles"] == len(second) and 0 <= report["entities_strict"]["micro"]["f1"] <= 1
