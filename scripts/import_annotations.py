"""Turn the annotators' working files (data/work/annot/*.jsonl, with text; git-ignored) into standoff records.

    python scripts/import_annotations.py          # writes data/annotations/*.jsonl and, once, data/splits/split.json

Each batch file's key (b3-017) is joined with data/work/batches/ to recover the article's source and id; the
standoff record keeps the text's sha256 and the spans, never the text.
"""
import json
from pathlib import Path

from rasd.data import validate_record, write_records
from rasd.standoff import make_split, to_standoff

WORK = Path("data/work")
# batch 0 was annotated under a file name with an unexpanded placeholder; its content is batch 0
FILES = {f"batch_{b}": WORK / "annot" / f"batch_{b}.jsonl" for b in range(1, 6)}
FILES["batch_0"] = WORK / "annot" / "batch_{B}.jsonl"


def main() -> None:
    meta = {}
    for path in sorted((WORK / "batches").glob("batch_[0-9].jsonl")):
        for row in map(json.loads, open(path, encoding="utf-8")):
            meta[row["key"]] = row
    first = []
    for batch, path in sorted(FILES.items()):
        for number, rec in enumerate(map(json.loads, open(path, encoding="utf-8")), start=1):
            validate_record(rec, f"{path}:{number}")
            row = meta[rec["id"]]
            assert rec["text"] == row["text"], f"{path}:{number}: text differs from the batch"
            first.append(to_standoff(rec, row["source"], row["doc_id"], "first", batch,
                                     full=row["task"] != "operations"))
    second = []
    path = WORK / "annot" / "second_pass.jsonl"
    for number, rec in enumerate(map(json.loads, open(path, encoding="utf-8")), start=1):
        validate_record(rec, f"{path}:{number}")
        row = meta[rec["id"]]
        second.append(to_standoff(rec, row["source"], row["doc_id"], "second", "second_pass",
                                  full=row["task"] != "operations"))
    print("first pass:", write_records("data/annotations/pool_first_pass.jsonl", first))
    print("second pass:", write_records("data/annotations/pool_second_pass.jsonl", second))
    split_path = Path("data/splits/split.json")
    if not split_path.exists():
        split = make_split(first, dev_full=62, dev_ops_only=38)
        split_path.write_text(json.dumps(split, indent=1))
        print("split: train", len(split["train"]), "dev", len(split["dev"]))


if __name__ == "__main__":
    main()
