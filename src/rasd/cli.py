"""The `rasd` command: a thin shell over the library (argument parsing, printing, exit codes live here only).

    rasd train --config train/tiny.toml [--set section.key=value ...] [--resume]
    rasd evaluate --model DIR --data FILE.jsonl [--out DIR] [--types LOCATION ...]
    rasd predict --model DIR INPUT... [-o OUT.jsonl] [--batch-size N] [--device auto|cpu|cuda] [--resume]
    rasd validate FILE.jsonl...
    rasd convert IN OUT            (spec JSONL <-> CoNLL, by extension)
    rasd data build [--sources ../shared/data] [--out data/build]
"""
from __future__ import annotations

import argparse
import json
import shlex
import sys
from pathlib import Path


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="rasd", description="Arabic security-news entity tagging and operation "
                                     "classification with a joint BERT model.")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser("train", help="fine-tune the joint model from a TOML recipe")
    p.add_argument("--config", required=True, help="a TOML recipe, e.g. train/tiny.toml")
    p.add_argument("--set", action="append", default=[], metavar="SECTION.KEY=VALUE",
                   help="override one config value (TOML syntax); repeatable")
    p.add_argument("--resume", action="store_true", help="continue from OUTPUT_DIR/checkpoint")
    p.add_argument("--no-progress", action="store_true")

    p = sub.add_parser("evaluate", help="score a model on annotated records (seqeval strict IOB2 + operations)")
    p.add_argument("--model", required=True, help="a model folder or a hub id in the local HF cache")
    p.add_argument("--data", required=True, help="spec JSONL with gold entities and/or operations")
    p.add_argument("--out", help="folder for report.json, report.md, confusion.png, errors.jsonl")
    p.add_argument("--types", nargs="+", help="score only these entity types (e.g. LOCATION)")
    p.add_argument("--batch-size", type=int, default=16)
    p.add_argument("--device", default="auto")
    p.add_argument("--title", default=None, help="report title")

    p = sub.add_parser("predict", help="label articles: JSONL, .txt files, folders of .txt, or - for stdin")
    p.add_argument("--model", required=True, help="a model folder or a hub id in the local HF cache")
    p.add_argument("inputs", nargs="+", metavar="INPUT")
    p.add_argument("-o", "--output", help="output JSONL (default: stdout)")
    p.add_argument("--batch-size", type=int, default=16, help="articles per forward pass")
    p.add_argument("--device", default="auto", help="auto, cpu, cuda or cuda:N")
    p.add_argument("--resume", action="store_true", help="keep OUTPUT and skip the ids already in it")
    p.add_argument("--no-text", action="store_true", help="leave the article text out of the output records")
    p.add_argument("--no-progress", action="store_true")

    p = sub.add_parser("validate", help="check spec JSONL files; every error names file, line and field")
    p.add_argument("files", nargs="+")

    p = sub.add_parser("convert", help="spec JSONL <-> CoNLL (word label, IOB2), by file extension")
    p.add_argument("source")
    p.add_argument("target")

    p = sub.add_parser("data", help="build the project's corpora from standoff annotations and ../shared/data")
    data_sub = p.add_subparsers(dest="data_command", required=True, metavar="ACTION")
    b = data_sub.add_parser("build", help="join data/annotations with the sources; write spec records")
    b.add_argument("--sources", default="../shared/data", help="folder of the public corpora")
    b.add_argument("--out", default="data/build")
    b.add_argument("--annotations", default="data/annotations")
    b.add_argument("--split", default="data/splits/split.json")
    return parser


def _err(message: str) -> None:
    print(message, file=sys.stderr)


def cmd_train(args) -> int:
    from .config import load_config
    from .training import train
    config = load_config(args.config, args.set)
    metrics = train(config, resume=args.resume, progress=not args.no_progress)
    if metrics:
        print(json.dumps({k: metrics[k] for k in ("steps", "best_step", "selection_score", "operation_thresholds")},
                         indent=1))
        print(f"model folder: {config.train.output_dir}")
    return 0


def cmd_evaluate(args) -> int:
    from .data import read_records
    from .evaluation import evaluate_predictions, report_markdown, write_reports
    from .inference import Predictor
    from .labels import ENTITY_TYPES
    types = tuple(args.types or ENTITY_TYPES)
    unknown = [t for t in types if t not in ENTITY_TYPES]
    if unknown:
        _err(f"--types: unknown {unknown}; known: {', '.join(ENTITY_TYPES)}")
        return 2
    records, _ = read_records(args.data, on_error="raise")
    predictor = Predictor.from_pretrained(args.model, device=args.device)
    predictions = predictor.predict([r["text"] for r in records], batch_size=args.batch_size)
    report, errors = evaluate_predictions(records, predictions, predictor.normalisation, types)
    report["model"], report["data"] = str(args.model), str(args.data)
    command = "rasd " + " ".join(shlex.quote(a) for a in sys.argv[1:])
    title = args.title or f"Evaluation of {args.model} on {args.data}"
    if args.out:
        write_reports(report, errors, Path(args.out), title, command)
    print(report_markdown(report, title, command))
    return 0


def cmd_predict(args) -> int:
    from .inference import Predictor, done_ids, predict_files
    predictor = Predictor.from_pretrained(args.model, device=args.device)
    resume_ids: set[str] = set()
    if args.output:
        out_path = Path(args.output)
        if args.resume:
            resume_ids = done_ids(out_path)
        out_path.parent.mkdir(parents=True, exist_ok=True)
        out = open(out_path, "a" if args.resume else "w", encoding="utf-8")
    else:
        if args.resume:
            _err("--resume needs -o OUTPUT")
            return 2
        out = sys.stdout
    try:
        counts = predict_files(predictor, args.inputs, out, batch_size=args.batch_size, resume_ids=resume_ids,
                               include_text=not args.no_text, on_error=lambda m: _err(f"skipped: {m}"),
                               progress=not args.no_progress and args.output is not None)
    finally:
        if out is not sys.stdout:
            out.close()
    _err(f"predicted {counts['predicted']} article(s); {counts['skipped_done']} already done; "
         f"{counts['bad']} bad input(s) skipped")
    return 0


def cmd_validate(args) -> int:
    from .data import read_records
    bad = 0
    for path in args.files:
        try:
            records, errors = read_records(path, on_error="skip")
        except OSError as err:
            _err(f"{path}: cannot read: {err.strerror}")
            bad += 1
            continue
        for error in errors:
            _err(str(error))
        bad += len(errors)
        print(f"{path}: {len(records)} valid record(s), {len(errors)} bad")
    return 1 if bad else 0


def cmd_convert(args) -> int:
    from .data import conll_to_records, read_conll, read_records, records_to_conll, write_conll, write_records
    src, dst = Path(args.source), Path(args.target)
    if src.suffix == ".jsonl" and dst.suffix != ".jsonl":
        records, _ = read_records(src, on_error="raise")
        write_conll(dst, records_to_conll(records))
        print(f"{dst}: {len(records)} sentence block(s)")
    elif src.suffix != ".jsonl" and dst.suffix == ".jsonl":
        n = write_records(dst, conll_to_records(read_conll(src), id_prefix=src.stem))
        print(f"{dst}: {n} record(s)")
    else:
        _err("convert: one side must be .jsonl (spec records) and the other CoNLL (any other extension)")
        return 2
    return 0


def cmd_data(args) -> int:
    from .standoff import build
    summary = build(Path(args.sources), Path(args.out), Path(args.annotations), Path(args.split))
    print(json.dumps(summary, indent=1, ensure_ascii=False))
    return 0


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    handlers = {"train": cmd_train, "evaluate": cmd_evaluate, "predict": cmd_predict, "validate": cmd_validate,
                "convert": cmd_convert, "data": cmd_data}
    try:
        return handlers[args.command](args)
    except (ValueError, FileNotFoundError) as err:  # config, record and path errors already name their source
        _err(f"rasd {args.command}: error: {err}")
        return 2


if __name__ == "__main__":
    raise SystemExit(main())
