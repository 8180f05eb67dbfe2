"""Scoring predictions against gold records, and the reports people read.

Entities are scored with seqeval in strict IOB2 mode over the project's word tokens (the headline numbers);
seqeval's default (conlleval-style, lenient) numbers are reported beside them, labelled as lenient. Exact
character-span matches are counted too. Predictions that overlap a gold ignore region are not scored. Operations
are scored per type at the thresholds the predictions were made with. A record with only one kind of annotation
is scored on that kind only.
"""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
from seqeval.metrics import classification_report
from seqeval.scheme import IOB2

from .labels import ENTITY_TYPES, OPERATION_TYPES
from .text import Normalisation, word_tags_for_text


def _overlaps(a: dict, b: dict) -> bool:
    return a["start"] < b["end"] and b["start"] < a["end"]


def _seqeval(y_true, y_pred, strict: bool, types) -> dict:
    kwargs = {"mode": "strict", "scheme": IOB2} if strict else {}
    report = classification_report(y_true, y_pred, output_dict=True, zero_division=0, **kwargs)
    out = {}
    for key in (*types, "micro avg", "macro avg"):
        row = report.get(key, {"precision": 0.0, "recall": 0.0, "f1-score": 0.0, "support": 0})
        out[key.replace(" avg", "")] = {"precision": float(row["precision"]), "recall": float(row["recall"]),
                                        "f1": float(row["f1-score"]), "support": int(row["support"])}
    # seqeval's macro average runs over the labels it saw; recompute over our types for a stable definition
    out["macro"] = {m: float(np.mean([out[t][m] for t in types])) for m in ("precision", "recall", "f1")}
    out["macro"]["support"] = sum(out[t]["support"] for t in types)
    return out


def _prf(tp: int, fp: int, fn: int) -> dict:
    p = tp / (tp + fp) if tp + fp else 0.0
    r = tp / (tp + fn) if tp + fn else 0.0
    return {"precision": p, "recall": r, "f1": 2 * p * r / (p + r) if p + r else 0.0, "support": tp + fn}


def score_entities(gold: list[dict], predicted: list[dict], options: Normalisation = Normalisation(),
                   types: tuple[str, ...] = ENTITY_TYPES):
    """Strict and lenient seqeval, exact-span counts, a word-level type confusion matrix and per-article errors."""
    y_true, y_pred, errors = [], [], []
    exact = {t: {"tp": 0, "gold": 0, "predicted": 0} for t in types}
    names = ["O", *types]
    confusion = np.zeros((len(names), len(names)), dtype=np.int64)
    for record, prediction in zip(gold, predicted):
        if "entities" not in record:
            continue
        ignore = record.get("ignore", [])
        gold_spans = [e for e in record["entities"] if e["label"] in types]
        pred_spans = [{k: e[k] for k in ("start", "end", "label")} for e in prediction["entities"]
                      if e["label"] in types and not any(_overlaps(e, r) for r in ignore)]
        regions = [{"start": r["start"], "end": r["end"], "label": None} for r in ignore]
        _, _, true_tags, ignored = word_tags_for_text(record["text"], gold_spans + regions, options)
        _, _, pred_tags, _ = word_tags_for_text(record["text"], pred_spans, options)
        # words inside ignore regions are dropped from both sides only where both say O there
        keep = [not (ig and p == "O") for ig, p in zip(ignored, pred_tags)]
        y_true.append([t for t, k in zip(true_tags, keep) if k])
        y_pred.append([p for p, k in zip(pred_tags, keep) if k])
        for t, p, k in zip(true_tags, pred_tags, keep):
            if k:
                confusion[names.index(t.partition("-")[2] or "O"), names.index(p.partition("-")[2] or "O")] += 1
        gold_set = {(e["start"], e["end"], e["label"]) for e in gold_spans}
        pred_set = {(e["start"], e["end"], e["label"]) for e in pred_spans}
        for s, e, label in gold_set:
            exact[label]["gold"] += 1
            exact[label]["tp"] += (s, e, label) in pred_set
        for _, _, label in pred_set:
            exact[label]["predicted"] += 1
        missed, spurious = sorted(gold_set - pred_set), sorted(pred_set - gold_set)
        if missed or spurious:
            text = record["text"]
            errors.append({"id": record.get("id"),
                           "missed": [{"start": s, "end": e, "label": l, "text": text[s:e]} for s, e, l in missed],
                           "spurious": [{"start": s, "end": e, "label": l, "text": text[s:e]}
                                        for s, e, l in spurious]})
    if not y_true:
        return None, errors
    report = {"articles": len(y_true), "strict": _seqeval(y_true, y_pred, True, types),
              "lenient": _seqeval(y_true, y_pred, False, types), "exact_spans": exact,
              "word_confusion": {"labels": names, "matrix": confusion.tolist()}}
    return report, errors


def score_operations(gold: list[dict], predicted: list[dict], operations=OPERATION_TYPES):
    """Per-type, micro and macro P/R/F1, subset accuracy, and accuracy on the articles whose answer is none."""
    pairs = [(set(r["operations"]), set(p["operations"])) for r, p in zip(gold, predicted) if "operations" in r]
    if not pairs:
        return None, []
    report: dict = {"articles": len(pairs)}
    totals = [0, 0, 0]
    for op in operations:
        tp = sum(op in g and op in p for g, p in pairs)
        fp = sum(op not in g and op in p for g, p in pairs)
        fn = sum(op in g and op not in p for g, p in pairs)
        report[op] = _prf(tp, fp, fn)
        totals = [totals[0] + tp, totals[1] + fp, totals[2] + fn]
    report["micro"] = _prf(*totals)
    report["macro"] = {m: float(np.mean([report[op][m] for op in operations])) for m in ("precision", "recall", "f1")}
    report["subset_accuracy"] = float(np.mean([g == p for g, p in pairs]))
    none = [(g, p) for g, p in pairs if not g]
    report["none_articles"] = len(none)
    report["accuracy_on_none"] = float(np.mean([not p for _, p in none])) if none else None
    errors = [{"id": r.get("id"), "gold": sorted(r["operations"]), "predicted": sorted(p["operations"]),
               "scores": p.get("operation_scores")}
              for r, p in zip(gold, predicted) if "operations" in r and set(r["operations"]) != set(p["operations"])]
    return report, errors


def evaluate_predictions(gold: list[dict], predicted: list[dict], options: Normalisation = Normalisation(),
                         types: tuple[str, ...] = ENTITY_TYPES) -> tuple[dict, list[dict]]:
    entities, entity_errors = score_entities(gold, predicted, options, types)
    operations, operation_errors = score_operations(gold, predicted)
    by_id: dict = {}
    for e in entity_errors:
        by_id.setdefault(e["id"], {"id": e["id"]}).update(missed=e["missed"], spurious=e["spurious"])
    for e in operation_errors:
        by_id.setdefault(e["id"], {"id": e["id"]}).update(operations_gold=e["gold"], operations_predicted=e["predicted"],
                                                          operation_scores=e["scores"])
    return {"entities": entities, "operations": operations}, list(by_id.values())


def selection_score(report: dict, entity_weight: float) -> float:
    """The number best-checkpoint selection maximises: a mix of strict entity micro-F1 and operations macro-F1."""
    entity = report["entities"]["strict"]["micro"]["f1"] if report.get("entities") else None
    ops = report["operations"]["macro"]["f1"] if report.get("operations") else None
    if entity is None:
        return ops or 0.0
    if ops is None:
        return entity
    return entity_weight * entity + (1 - entity_weight) * ops


def tune_thresholds(gold: list[dict], predicted: list[dict], operations=OPERATION_TYPES) -> list[float]:
    """Per-operation threshold that maximises F1 on `gold` (ties: the one closest to 0.5; no positives: 0.5)."""
    rows = [(r, p) for r, p in zip(gold, predicted) if "operations" in r]
    thresholds = []
    for op in operations:
        truth = np.array([op in r["operations"] for r, _ in rows])
        scores = np.array([p["operation_scores"][op] for _, p in rows])
        if not truth.any():
            thresholds.append(0.5)
            continue
        best = (-1.0, 0.0, 0.5)
        for t in np.round(np.arange(0.05, 0.951, 0.025), 3):
            pred = scores >= t
            tp, fp, fn = int((pred & truth).sum()), int((pred & ~truth).sum()), int((~pred & truth).sum())
            f1 = _prf(tp, fp, fn)["f1"]
            candidate = (f1, -abs(t - 0.5), float(t))
            best = max(best, candidate)
        thresholds.append(best[2])
    return thresholds


# ---------------------------------------------------------------- reports

def _fmt(x) -> str:
    return "–" if x is None else f"{x:.3f}"


def report_markdown(report: dict, title: str, command: str | None = None) -> str:
    lines = [f"# {title}", ""]
    if command:
        lines += ["Produced by:", "", "```", command, "```", ""]
    ents = report.get("entities")
    if ents:
        lines += [f"## Entities ({ents['articles']} articles; seqeval strict IOB2)", "",
                  "| type | P | R | F1 | support | lenient F1 | exact spans (tp / gold / predicted) |",
                  "|---|---|---|---|---|---|---|"]
        for key, row in ents["strict"].items():
            ex = ents["exact_spans"].get(key)
            exact = f"{ex['tp']} / {ex['gold']} / {ex['predicted']}" if ex else ""
            lines.append(f"| {key} | {_fmt(row['precision'])} | {_fmt(row['recall'])} | **{_fmt(row['f1'])}** | "
                         f"{row['support']} | {_fmt(ents['lenient'][key]['f1'])} | {exact} |")
        lines += ["", "Lenient = seqeval's default (conlleval) mode, shown beside the strict numbers, never instead.", ""]
    ops = report.get("operations")
    if ops:
        lines += [f"## Operations ({ops['articles']} articles, {ops['none_articles']} with none)", "",
                  "| type | P | R | F1 | support |", "|---|---|---|---|---|"]
        for key in (*OPERATION_TYPES, "micro", "macro"):
            row = ops[key]
            lines.append(f"| {key} | {_fmt(row['precision'])} | {_fmt(row['recall'])} | **{_fmt(row['f1'])}** | "
                         f"{row.get('support', '')} |")
        lines += ["", f"Subset accuracy: {_fmt(ops['subset_accuracy'])}. "
                      f"Accuracy on articles with no operation: {_fmt(ops['accuracy_on_none'])}.", ""]
    return "\n".join(lines)


def plot_report(report: dict, path: Path) -> None:
    """Word-level entity-type confusion (row-normalised) beside per-operation P/R/F1 bars."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(12, 4.8))
    ents, ops = report.get("entities"), report.get("operations")
    if ents:
        names = ents["word_confusion"]["labels"]
        matrix = np.array(ents["word_confusion"]["matrix"], dtype=float)
        norm = matrix / np.maximum(matrix.sum(1, keepdims=True), 1)
        axes[0].imshow(norm, cmap="Blues", vmin=0, vmax=1)
        axes[0].set_xticks(range(len(names)), names, rotation=30, ha="right")
        axes[0].set_yticks(range(len(names)), names)
        for i in range(len(names)):
            for j in range(len(names)):
                axes[0].text(j, i, f"{int(matrix[i, j])}", ha="center", va="center",
                             color="white" if norm[i, j] > 0.5 else "black", fontsize=8)
        axes[0].set_xlabel("predicted")
        axes[0].set_ylabel("gold")
        axes[0].set_title("Entity type per word (counts; colour = row share)")
    else:
        axes[0].axis("off")
    if ops:
        x = np.arange(len(OPERATION_TYPES))
        for k, metric in enumerate(("precision", "recall", "f1")):
            axes[1].bar(x + (k - 1) * 0.27, [ops[o][metric] for o in OPERATION_TYPES], 0.27, label=metric)
        axes[1].set_xticks(x, OPERATION_TYPES)
        axes[1].set_ylim(0, 1)
        axes[1].legend()
        axes[1].set_title(f"Operations (macro-F1 {ops['macro']['f1']:.3f})")
    else:
        axes[1].axis("off")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def write_reports(report: dict, errors: list[dict], out_dir: Path, title: str, command: str | None = None) -> None:
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "report.json").write_text(json.dumps(report, indent=1, ensure_ascii=False))
    (out_dir / "report.md").write_text(report_markdown(report, title, command))
    with open(out_dir / "errors.jsonl", "w", encoding="utf-8") as f:
        for row in errors:
            f.write(json.dumps(row, ensure_ascii=False) + "\n")
    plot_report(report, out_dir / "confusion.png")
