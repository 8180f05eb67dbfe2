"""Annotated-article records (the spec's JSON Lines) and CoNLL files: reading, validation, writing, conversion.

A record is {"id", "text", "entities": [{"start","end","label"}], "operations": [...]} as in
../shared/spec/labels.md. Two optional fields are the project's own additions, never required by the spec:
`ignore` (character regions whose gold label is unknown — words there are ignored by the loss and the scorer)
and `source` / `licence` (provenance of records built from public corpora).

Every error names the file, the line and the field. A bad record is reported and skipped by readers run with
`on_error="skip"`; with `on_error="raise"` all bad lines of the file are listed in one error.
"""
from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Iterable, Iterator

from .labels import ENTITY_TYPES, OPERATION_TYPES
from .text import Normalisation, tags_to_spans, word_tags_for_text


class RecordError(ValueError):
    """A bad record: `where` is "file:line", `field` the offending field."""

    def __init__(self, where: str, field: str, message: str):
        super().__init__(f"{where}: field '{field}': {message}")
        self.where, self.field, self.message = where, field, message


def _check_spans(spans, text_len: int, where: str, field: str, need_label: bool) -> None:
    if not isinstance(spans, list):
        raise RecordError(where, field, f"must be a list, got {type(spans).__name__}")
    previous_end, previous = -1, None
    for k, span in enumerate(sorted(spans, key=lambda s: (s.get("start", -1), s.get("end", -1))
                                    if isinstance(s, dict) else (-1, -1))):
        f = f"{field}[{k}]"
        if not isinstance(span, dict):
            raise RecordError(where, f, "must be an object with start, end" + (", label" if need_label else ""))
        start, end = span.get("start"), span.get("end")
        if not isinstance(start, int) or not isinstance(end, int) or isinstance(start, bool) or isinstance(end, bool):
            raise RecordError(where, f, f"start and end must be integers, got {start!r}, {end!r}")
        if not 0 <= start < end <= text_len:
            raise RecordError(where, f, f"need 0 <= start < end <= len(text)={text_len}, got start={start} end={end}")
        if need_label and span.get("label") not in ENTITY_TYPES:
            raise RecordError(where, f + ".label", f"unknown label {span.get('label')!r}; known: {', '.join(ENTITY_TYPES)}")
        if start < previous_end:
            raise RecordError(where, f, f"span ({start}, {end}) overlaps span ({previous['start']}, {previous['end']})")
        previous_end, previous = end, span


def validate_record(record, where: str) -> dict:
    """Check one record against the spec; return it unchanged or raise RecordError naming the field."""
    if not isinstance(record, dict):
        raise RecordError(where, "<record>", f"must be a JSON object, got {type(record).__name__}")
    text = record.get("text")
    if not isinstance(text, str):
        raise RecordError(where, "text", "is required and must be a string")
    if "id" in record and not isinstance(record["id"], (str, int)):
        raise RecordError(where, "id", f"must be a string, got {type(record['id']).__name__}")
    if "entities" in record:
        _check_spans(record["entities"], len(text), where, "entities", need_label=True)
    if "ignore" in record:
        _check_spans(record["ignore"], len(text), where, "ignore", need_label=False)
        for region in record["ignore"]:
            for ent in record.get("entities", []):
                if region["start"] < ent["end"] and ent["start"] < region["end"]:
                    raise RecordError(where, "ignore", f"region ({region['start']}, {region['end']}) overlaps entity "
                                      f"({ent['start']}, {ent['end']})")
    if "operations" in record:
        ops = record["operations"]
        if not isinstance(ops, list) or any(not isinstance(o, str) for o in ops):
            raise RecordError(where, "operations", "must be a list of strings")
        unknown = [o for o in ops if o not in OPERATION_TYPES]
        if unknown:
            raise RecordError(where, "operations", f"unknown {unknown}; known: {', '.join(OPERATION_TYPES)}")
        if len(set(ops)) != len(ops):
            raise RecordError(where, "operations", f"duplicates in {ops}")
    return record


def iter_jsonl(path: str | os.PathLike, lines: Iterable[str] | None = None) -> Iterator[tuple[str, object]]:
    """Yield ("file:line", parsed JSON or a RecordError) for every non-blank line; never stops on a bad line."""
    name = str(path)
    # Bytes are decoded line by line, so a line with bad bytes costs only itself.
    handle = open(path, "rb") if lines is None else None
    try:
        for number, line in enumerate(lines if lines is not None else handle, start=1):
            where = f"{name}:{number}"
            if isinstance(line, bytes):
                try:
                    line = line.decode("utf-8")
                except UnicodeDecodeError as err:
                    yield where, RecordError(where, "<encoding>", f"not UTF-8 ({err.reason})")
                    continue
            if not line.strip():
                continue
            try:
                yield where, json.loads(line)
            except json.JSONDecodeError as err:
                yield where, RecordError(where, "<json>", f"not valid JSON ({err.msg} at column {err.colno})")
    finally:
        if handle is not None:
            handle.close()


def read_records(path: str | os.PathLike, on_error: str = "raise") -> tuple[list[dict], list[RecordError]]:
    """Read and validate a spec JSONL file. Returns (good records, errors).

    on_error="raise" raises one RecordError listing every bad line once the whole file has been read;
    on_error="skip" returns the errors beside the good records.
    """
    records, errors = [], []
    for where, item in iter_jsonl(path):
        try:
            if isinstance(item, RecordError):
                raise item
            records.append(validate_record(item, where))
        except RecordError as err:
            errors.append(err)
    if errors and on_error == "raise":
        listing = "\n  ".join(str(e) for e in errors[:20])
        more = f"\n  ... and {len(errors) - 20} more" if len(errors) > 20 else ""
        raise RecordError(str(path), errors[0].field, f"{len(errors)} bad record(s):\n  {listing}{more}")
    return records, errors


def write_records(path: str | os.PathLike, records: Iterable[dict]) -> int:
    """Write records as JSONL atomically (temp file, then rename): a crash never leaves a half-written file."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    count = 0
    with open(tmp, "w", encoding="utf-8") as f:
        for record in records:
            f.write(json.dumps(record, ensure_ascii=False) + "\n")
            count += 1
    os.replace(tmp, path)
    return count


# ---------------------------------------------------------------- CoNLL

def read_conll(path: str | os.PathLike) -> list[list[tuple[str, str]]]:
    """Read `word label` lines (label last, whitespace-separated), blank line between sentences; check IOB2."""
    sentences, current = [], []
    with open(path, encoding="utf-8") as f:
        for number, line in enumerate(f, start=1):
            parts = line.split()
            if not parts:
                if current:
                    sentences.append(current)
                    current = []
                continue
            if len(parts) < 2:
                raise RecordError(f"{path}:{number}", "label", f"expected 'word label', got {line.strip()!r}")
            word, tag = parts[0], parts[-1]
            kind, _, label = tag.partition("-")
            if tag != "O" and (kind not in ("B", "I") or not label):
                raise RecordError(f"{path}:{number}", "label", f"{tag!r} is not an IOB2 tag (O, B-X, I-X)")
            current.append((word, tag))
    if current:
        sentences.append(current)
    return sentences


def conll_to_records(sentences: list[list[tuple[str, str]]], id_prefix: str = "conll") -> list[dict]:
    """One record per sentence: words joined by single spaces, spans from the IOB2 tags (strict reading)."""
    records = []
    for index, sentence in enumerate(sentences):
        offsets, pieces, position = [], [], 0
        for word, _ in sentence:
            offsets.append((position, position + len(word)))
            pieces.append(word)
            position += len(word) + 1
        spans = tags_to_spans(offsets, [tag for _, tag in sentence])
        records.append({"id": f"{id_prefix}-{index:06d}", "text": " ".join(pieces),
                        "entities": [{"start": s["start"], "end": s["end"], "label": s["label"]} for s in spans]})
    return records


def records_to_conll(records: Iterable[dict], options: Normalisation = Normalisation()) -> list[list[tuple[str, str]]]:
    """Word-level IOB2 over the project's word tokens; each word is written as it stands in the original text."""
    sentences = []
    for record in records:
        norm, offsets, tags, _ = word_tags_for_text(record["text"], record.get("entities", []), options)
        words = [record["text"][slice(*norm.to_original(s, e))] for s, e in offsets]
        sentences.append(list(zip(words, tags)))
    return sentences


def write_conll(path: str | os.PathLike, sentences: list[list[tuple[str, str]]]) -> None:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", encoding="utf-8") as f:
        for sentence in sentences:
            for word, tag in sentence:
                f.write(f"{word} {tag}\n")
            f.write("\n")


def pack_records(records: list[dict], max_words: int, separator: str = "\n") -> list[dict]:
    """Join consecutive entity-only records (transfer-corpus sentences) into pseudo-articles of about `max_words`.

    Short sentences padded to a long window waste most of a CPU's time; packing keeps windows full. Records that
    carry `operations` are left as they are (an article label cannot be shared between sentences).
    """
    packed, current, words, current_provenance = [], None, 0, {}

    def close():
        if current is not None:
            packed.append(current)

    for record in records:
        if "operations" in record:
            packed.append(record)
            continue
        n = len(record["text"].split())
        provenance = {k: record[k] for k in ("source", "licence") if k in record}
        if current is None or words + n > max_words or provenance != current_provenance:
            close()
            current, words = {"id": record["id"], "text": "", "entities": [], "ignore": [], **provenance}, 0
            current_provenance = provenance
        shift = len(current["text"]) + (len(separator) if current["text"] else 0)
        current["text"] += (separator if current["text"] else "") + record["text"]
        for field in ("entities", "ignore"):
            current[field] += [{**s, "start": s["start"] + shift, "end": s["end"] + shift}
                               for s in record.get(field, [])]
        words += n
    close()
    return packed
