"""The label sets of ../shared/spec/labels.md (v1.1) and the IOB2 tag maps built from them.

This module mirrors the spec; it never redefines it. Entity types are flat, non-overlapping character spans;
operations are article-level and multi-label (possibly none).
"""
from __future__ import annotations

SPEC_VERSION = "1.1"
ENTITY_TYPES: tuple[str, ...] = ("ARMED_GROUP", "AGENCY", "LOCATION")
OPERATION_TYPES: tuple[str, ...] = ("RAID", "AIRSTRIKE", "ARREST", "ASSASSINATION")

# Words whose gold label is unknown (a transfer-corpus label that maps to no type of ours) are ignored by the loss.
IGNORE_INDEX = -100


def iob2_tags(entity_types: tuple[str, ...] = ENTITY_TYPES) -> list[str]:
    """`O` first, then B-/I- per type, in the spec's order: the tagger's id2label."""
    tags = ["O"]
    for t in entity_types:
        tags += [f"B-{t}", f"I-{t}"]
    return tags


TAGS: list[str] = iob2_tags()
TAG2ID: dict[str, int] = {t: i for i, t in enumerate(TAGS)}
OP2ID: dict[str, int] = {o: i for i, o in enumerate(OPERATION_TYPES)}
