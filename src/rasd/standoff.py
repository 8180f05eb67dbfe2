"""The project's own annotations as standoff records, joined with the public sources at build time.

A standoff record names its source article and carries no text:
    {"id": "pool-1a2b3c4d5e", "corpus": "pool", "source": "ant_v2.1", "doc_id": "...", "text_field": "title+body",
     "text_sha256": "...", "entities": [...], "operations": [...], "pass": "first", "batch": "batch_3"}
`entities` is absent for an operations-only annotation. `rasd data build` reads the pool from the sources folder,
recomposes the exact annotated text, checks its sha256, and writes spec records split by the manifest, plus the
transfer corpora mapped to our labels (rasd.corpora). No text from the sources is ever stored in the repo.
"""
from __future__ import annotations

import gzip
import hashlib
import json
from pathlib import Path

from .data import RecordError, iter_jsonl, validate_record, write_records

POOL_FILE = "pool/security_op_candidates.jsonl.gz"
# The pool keeps each article's upstream source; its licence follows that source (../shared/data/README.md).
POOL_LICENCES = {
    "saudinewsnet": "CC BY-NC-SA 4.0 (non-commercial)",
    "ant_v2.1": "Apache-2.0 (cite ANT)",
    "ant_v1.1": "Apache-2.0 (cite ANT)",
    "egypt2013": "unknown: as its upstream source (see ../shared/data/pool/SOURCE.md); research use only",
}
# Which public corpora and splits the build converts, and on which side of the evaluation each one sits.
TRANSFER_BUILD = [("anercorp", "train"), ("anercorp", "test"), ("aqmar", "train"), ("aqmar", "dev"),
                  ("aqmar", "test"), ("wikifane", "all"), ("wojood", "train"), ("wojood", "val"), ("wojood", "test")]
TRAIN_SIDE = [("anercorp", "train"), ("aqmar", "train"), ("aqmar", "dev"), ("aqmar", "test"), ("wikifane", "all"),
              ("wojood", "train"), ("wojood", "val"), ("wojood", "test")]
EVAL_SIDE = [("anercorp", "test")]


def sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def pool_article_text(article: dict) -> str:
    """The exact text annotated for a pool article: headline, blank line, body (the headline carries the main news)."""
    return article["title"].strip() + "\n\n" + article["text"]


def standoff_id(source: str, doc_id: str) -> str:
    return "pool-" + hashlib.sha1(f"{source}\t{doc_id}".encode("utf-8")).hexdigest()[:10]


def to_standoff(record: dict, source: str, doc_id: str, annotation_pass: str, batch: str, full: bool) -> dict:
    """A spec record (with text) → a standoff record (without). `full`: the entities were annotated."""
    out = {"id": standoff_id(source, doc_id), "corpus": "pool", "source": source, "doc_id": doc_id,
           "text_field": "title+body", "text_sha256": sha256(record["text"])}
    if full:
        out["entities"] = [{k: e[k] for k in ("start", "end", "label")} for e in record["entities"]]
    out["operations"] = list(record["operations"])
    out.update({"pass": annotation_pass, "batch": batch})
    return out


def load_pool(sources: Path) -> dict[tuple[str, str], dict]:
    path = sources / POOL_FILE
    if not path.exists():
        raise FileNotFoundError(f"{path}: the in-domain pool is missing; pass --sources pointing at shared/data")
    with gzip.open(path, "rt", encoding="utf-8") as f:
        return {(a["source"], a["id"]): a for a in map(json.loads, f)}


def join_standoff(path: Path, pool: dict) -> tuple[list[dict], list[RecordError]]:
    """Spec records for every standoff record in `path`; a missing article or a hash mismatch is a RecordError."""
    records, errors = [], []
    for where, item in iter_jsonl(path):
        try:
            if isinstance(item, RecordError):
                raise item
            key = (item.get("source"), item.get("doc_id"))
            article = pool.get(key)
            if article is None:
                raise RecordError(where, "doc_id", f"no article {key} in the pool")
            text = pool_article_text(article)
            if sha256(text) != item.get("text_sha256"):
                raise RecordError(where, "text_sha256", f"the source text of {key} has changed since it was annotated")
            record = {"id": item["id"], "text": text, "operations": item["operations"]}
            if "entities" in item:
                record["entities"] = item["entities"]
            record.update(source=item["source"], licence=POOL_LICENCES.get(item["source"], "unknown"))
            records.append(validate_record(record, where))
        except RecordError as err:
            errors.append(err)
    return records, errors


def build(sources: Path, out: Path, annotations: Path, split_path: Path) -> dict:
    """Write out/indomain_{train,dev}.jsonl, out/second_pass.jsonl and out/transfer/*.jsonl; return counts."""
    from .corpora import check_no_leakage, load_transfer_corpus
    pool = load_pool(sources)
    first, errors = join_standoff(annotations / "pool_first_pass.jsonl", pool)
    second, more = join_standoff(annotations / "pool_second_pass.jsonl", pool)
    errors += more
    if errors:
        listing = "\n  ".join(str(e) for e in errors[:20])
        raise RecordError(str(annotations), errors[0].field, f"{len(errors)} annotation(s) cannot be joined:\n  {listing}")
    split = json.loads(split_path.read_text())
    assigned = {i: side for side in ("train", "dev") for i in split[side]}
    unassigned = [r["id"] for r in first if r["id"] not in assigned]
    if unassigned:
        raise ValueError(f"{split_path}: {len(unassigned)} annotated article(s) are in no split, e.g. {unassigned[:3]}")
    summary: dict = {}
    for side in ("train", "dev"):
        rows = [r for r in first if assigned[r["id"]] == side]
        summary[f"indomain_{side}"] = write_records(out / f"indomain_{side}.jsonl", rows)
    summary["second_pass"] = write_records(out / "second_pass.jsonl", second)
    check_no_leakage(TRAIN_SIDE, EVAL_SIDE)
    for corpus, corpus_split in TRANSFER_BUILD:
        rows = load_transfer_corpus(corpus, corpus_split, sources)
        summary[f"transfer/{corpus}_{corpus_split}"] = write_records(out / "transfer" / f"{corpus}_{corpus_split}.jsonl",
                                                                     rows)
    return summary


def make_split(first_pass: list[dict], dev_full: int, dev_ops_only: int, seed: int = 13) -> dict:
    """Assign every article to train or dev, by article: `dev_full` fully annotated and `dev_ops_only` others."""
    import random
    rng = random.Random(seed)
    full = sorted(r["id"] for r in first_pass if "entities" in r)
    ops_only = sorted(r["id"] for r in first_pass if "entities" not in r)
    rng.shuffle(full)
    rng.shuffle(ops_only)
    dev = sorted(full[:dev_full] + ops_only[:dev_ops_only])
    train = sorted(set(full + ops_only) - set(dev))
    return {"seed": seed, "train": train, "dev": dev}


def agreement(first: list[dict], second: list[dict]) -> dict:
    """Second pass scored against the first: strict entity F1 per type and operation agreement per type."""
    from .evaluation import score_entities
    from .labels import OPERATION_TYPES
    by_id = {r["id"]: r for r in first}
    pairs = [(by_id[r["id"]], r) for r in second if r["id"] in by_id]
    entity_pairs = [(a, b) for a, b in pairs if "entities" in a and "entities" in b]
    entities, _ = score_entities([a for a, _ in entity_pairs], [b for _, b in entity_pairs])
    ops = {}
    for op in OPERATION_TYPES:
        both = [(op in a["operations"], op in b["operations"]) for a, b in pairs]
        agree = sum(x == y for x, y in both)
        # Cohen's kappa: agreement beyond what the two passes' label rates would give by chance
        pa, pb = sum(x for x, _ in both) / len(both), sum(y for _, y in both) / len(both)
        chance = pa * pb + (1 - pa) * (1 - pb)
        observed = agree / len(both)
        ops[op] = {"agreement": observed, "kappa": (observed - chance) / (1 - chance) if chance < 1 else 1.0,
                   "first_pass_positive": sum(x for x, _ in both), "second_pass_positive": sum(y for _, y in both)}
    ops["exact_set_agreement"] = sum(set(a["operations"]) == set(b["operations"]) for a, b in pairs) / len(pairs)
    return {"articles": len(pairs), "entity_articles": len(entity_pairs),
            "entities_strict": entities["strict"] if entities else None, "operations": ops}
