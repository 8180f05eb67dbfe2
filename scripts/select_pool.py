"""Draw the annotation batches from the in-domain pool: stratified by source and keyword type.

Writes data/work/batches/batch_K.jsonl (article text for annotators: git-ignored) and
data/splits/annotation_batches.json (ids only). The pool's keyword hits only steer the draw; they are never labels.
"""
import argparse
import collections
import gzip
import json
import random
from pathlib import Path

from rasd.standoff import pool_article_text


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--sources", default="../shared/data")
    ap.add_argument("--batches", type=int, default=6)
    ap.add_argument("--per-batch", type=int, default=54)
    ap.add_argument("--full-per-batch", type=int, default=22)
    ap.add_argument("--seed", type=int, default=13)
    args = ap.parse_args()
    rng = random.Random(args.seed)
    with gzip.open(Path(args.sources) / "pool/security_op_candidates.jsonl.gz", "rt", encoding="utf-8") as f:
        pool = [json.loads(line) for line in f]
    # Long articles cost annotators most and are rare; keep the draw to readable lengths.
    pool = [r for r in pool if len(pool_article_text(r)) <= 3500]
    strata = collections.defaultdict(list)
    for r in pool:
        kw = sorted(r["kw_ops"]) or ["NONE"]
        # the rarest keyword type decides the stratum, so RAID/ASSASSINATION hits are not drowned by AIRSTRIKE
        rarity = {"SEC_OP": 0, "RAID": 1, "ASSASSINATION": 2, "ARREST": 3, "AIRSTRIKE": 4, "NONE": 5}
        strata[(min(kw, key=lambda k: rarity.get(k, 9)), r["source"])].append(r)
    for v in strata.values():
        rng.shuffle(v)
    keys = sorted(strata)
    need = args.batches * args.per_batch
    chosen = []
    while len(chosen) < need and any(strata.values()):
        for k in keys:
            if strata[k] and len(chosen) < need:
                chosen.append(strata[k].pop())
    rng.shuffle(chosen)
    # full-entity articles: the shorter ones of each batch
    out = Path("data/work/batches"); out.mkdir(parents=True, exist_ok=True)
    manifest = {}
    for b in range(args.batches):
        part = chosen[b::args.batches]
        part.sort(key=lambda r: len(pool_article_text(r)))
        full = set(id(r) for r in part[: args.full_per_batch * 2 : 2])  # every other short one, to mix lengths
        rows = []
        for i, r in enumerate(part):
            rows.append({"key": f"b{b}-{i:03d}", "source": r["source"], "doc_id": r["id"],
                         "task": "entities+operations" if id(r) in full else "operations",
                         "kw_ops": r["kw_ops"], "text": pool_article_text(r)})
        with open(out / f"batch_{b}.jsonl", "w", encoding="utf-8") as f:
            for row in rows:
                f.write(json.dumps(row, ensure_ascii=False) + "\n")
        manifest[f"batch_{b}"] = [{k: row[k] for k in ("key", "source", "doc_id", "task")} for row in rows]
    # second, independent pass: 3 full + 3 ops-only articles from every batch
    second = []
    for b in range(args.batches):
        rows = manifest[f"batch_{b}"]
        second += [r for r in rows if r["task"] != "operations"][:3] + [r for r in rows if r["task"] == "operations"][:3]
    manifest["second_pass"] = second
    Path("data/splits").mkdir(parents=True, exist_ok=True)
    Path("data/splits/annotation_batches.json").write_text(json.dumps(manifest, ensure_ascii=False, indent=1))
    texts = {(json.loads(l)["source"], json.loads(l)["doc_id"]): l for b in range(args.batches)
             for l in open(out / f"batch_{b}.jsonl", encoding="utf-8")}
    with open(out / "second_pass.jsonl", "w", encoding="utf-8") as f:
        for r in second:
            f.write(texts[(r["source"], r["doc_id"])])
    print(collections.Counter(r["source"] for r in chosen), collections.Counter(k for r in chosen for k in r["kw_ops"]))


if __name__ == "__main__":
    main()
