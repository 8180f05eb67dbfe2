"""Write data/README.md (the data card) from the built corpora: counts, co-occurrence, agreement, licences.

    rasd data build --sources ../shared/data --out data/build
    python scripts/data_card.py --build data/build
"""
import argparse
import collections
import itertools
import json
from pathlib import Path

from rasd.labels import ENTITY_TYPES, OPERATION_TYPES
from rasd.standoff import POOL_LICENCES, agreement


def load(path):
    return [json.loads(l) for l in open(path, encoding="utf-8") if l.strip()]


def table(header, rows):
    out = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    out += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(out)


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--build", default="data/build")
    ap.add_argument("--out", default="data/README.md")
    args = ap.parse_args()
    build = Path(args.build)
    splits = {s: load(build / f"indomain_{s}.jsonl") for s in ("train", "dev")}
    allrec = splits["train"] + splits["dev"]
    second = load(build / "second_pass.jsonl")

    rows = []
    for s, recs in splits.items():
        full = [r for r in recs if "entities" in r]
        ents = collections.Counter(e["label"] for r in full for e in r["entities"])
        ops = collections.Counter(o for r in recs for o in r["operations"])
        rows.append([s, len(recs), len(full), *[ents[t] for t in ENTITY_TYPES], *[ops[o] for o in OPERATION_TYPES],
                     sum(not r["operations"] for r in recs)])
    split_table = table(["split", "articles (operations)", "with entities", *ENTITY_TYPES, *OPERATION_TYPES, "no operation"],
                        rows)
    by_source = []
    for src in sorted({r["source"] for r in allrec}):
        recs = [r for r in allrec if r["source"] == src]
        by_source.append([src, len(recs), sum("entities" in r for r in recs),
                          sum(bool(r["operations"]) for r in recs), POOL_LICENCES.get(src, "?")])
    source_table = table(["source", "articles", "with entities", "with an operation", "licence"], by_source)
    full = [r for r in allrec if "entities" in r]
    per_article = sorted(len(r["entities"]) for r in full)
    mentions = (f"Entity mentions per fully annotated article: median {per_article[len(per_article) // 2]}, "
                f"min {per_article[0]}, max {per_article[-1]}, mean {sum(per_article) / len(per_article):.1f} "
                f"({sum(per_article)} mentions in {len(full)} articles).")
    co = collections.Counter()
    for r in allrec:
        for a, b in itertools.combinations_with_replacement(sorted(r["operations"]), 2):
            co[(a, b)] += 1
    co_table = table(["", *OPERATION_TYPES],
                     [[a, *[co[tuple(sorted((a, b)))] for b in OPERATION_TYPES]] for a in OPERATION_TYPES])
    combos = collections.Counter(" + ".join(sorted(r["operations"])) or "(none)" for r in allrec).most_common()
    combo_table = table(["operation set", "articles"], combos)
    agr = agreement(allrec, second)
    ent_rows = [[t, f"{agr['entities_strict'][t]['f1']:.3f}", agr["entities_strict"][t]["support"]]
                for t in (*ENTITY_TYPES, "micro")]
    op_rows = [[o, f"{agr['operations'][o]['agreement']:.3f}", f"{agr['operations'][o]['kappa']:.3f}",
                agr["operations"][o]["first_pass_positive"], agr["operations"][o]["second_pass_positive"]]
               for o in OPERATION_TYPES]
    transfer = []
    for path in sorted((build / "transfer").glob("*.jsonl")):
        recs = load(path)
        ents = collections.Counter(e["label"] for r in recs for e in r["entities"])
        transfer.append([path.stem, len(recs), *[ents[t] for t in ENTITY_TYPES],
                         sum(len(r.get("ignore", [])) for r in recs), recs[0].get("licence", "") if recs else ""])
    transfer_table = table(["corpus_split", "sentences", *ENTITY_TYPES, "ignore regions", "licence"], transfer)
    template = (Path(__file__).parent / "data_card_template.md").read_text(encoding="utf-8")
    text = template.format(split_table=split_table, source_table=source_table, mentions=mentions, co_table=co_table,
                           combo_table=combo_table, agreement_articles=agr["articles"],
                           agreement_entity_articles=agr["entity_articles"],
                           entity_agreement=table(["type", "strict F1 (second pass vs first)", "first-pass mentions"],
                                                  ent_rows),
                           operation_agreement=table(["operation", "agreement", "Cohen's kappa", "first pass +",
                                                      "second pass +"], op_rows),
                           exact_set=f"{agr['operations']['exact_set_agreement']:.3f}", transfer_table=transfer_table)
    Path(args.out).write_text(text, encoding="utf-8")


if __name__ == "__main__":
    main()
