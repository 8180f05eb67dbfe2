"""Speed of `rasd predict` against the pair of Hugging Face pipelines on the same encoder weights and articles.

    python scripts/bench_predict.py --model models/rasd-ar-base --data data/build/indomain_dev.jsonl \
        --articles 100 --repeats 3 --device cpu --out eval/bench_cpu.json

Each system runs in its own subprocess (so peak memory is its own): rasd's Predictor (one encoder pass per window,
both heads), and a token-classification pipeline plus a text-classification pipeline built from the same weights
(the encoder runs twice per article, as it does when the two tasks are served by two stock pipelines). Reported:
articles/s and tokens/s (encoder tokens of the rasd windows, the same count for both) as medians over repeats,
peak resident memory, and how far the two systems' predictions agree.
"""
from __future__ import annotations

import argparse
import json
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path


def load_texts(path: str, n: int) -> list[str]:
    texts = [json.loads(l)["text"] for l in open(path, encoding="utf-8") if l.strip()]
    return (texts * (n // max(len(texts), 1) + 1))[:n]


def pipelines_from_joint(model_dir: str, device: str):
    """Stock HF token- and sequence-classification models holding the joint model's encoder and head weights."""
    import torch
    from transformers import AutoModelForSequenceClassification, AutoModelForTokenClassification, AutoTokenizer, pipeline

    from rasd.modeling import RasdJointModel
    joint = RasdJointModel.from_pretrained(model_dir, dtype=torch.float32)
    enc_cfg = joint.config.encoder_config()
    tok_cfg = enc_cfg.__class__(**{**enc_cfg.to_dict(), "num_labels": len(joint.config.id2label),
                                   "id2label": joint.config.id2label})
    seq_cfg = enc_cfg.__class__(**{**enc_cfg.to_dict(), "num_labels": len(joint.config.operation_labels),
                                   "problem_type": "multi_label_classification",
                                   "id2label": dict(enumerate(joint.config.operation_labels))})
    tagger = AutoModelForTokenClassification.from_config(tok_cfg)
    classifier = AutoModelForSequenceClassification.from_config(seq_cfg)
    encoder_state = joint.encoder.state_dict()
    getattr(tagger, tagger.base_model_prefix).load_state_dict(encoder_state, strict=False)
    getattr(classifier, classifier.base_model_prefix).load_state_dict(encoder_state, strict=False)
    tagger.classifier.load_state_dict(joint.tagger.state_dict())
    # the stock classifier reads the [CLS] pooler, not rasd's mean over tokens: its scores differ by design
    classifier.classifier.load_state_dict(joint.operations_head.state_dict())
    tokenizer = AutoTokenizer.from_pretrained(model_dir)
    dev = 0 if device == "cuda" else -1
    token_pipe = pipeline("token-classification", model=tagger.eval(), tokenizer=tokenizer, device=dev,
                          aggregation_strategy="first", stride=joint.config.stride_tokens)
    token_pipe.tokenizer.model_max_length = joint.config.max_length_tokens
    text_pipe = pipeline("text-classification", model=classifier.eval(), tokenizer=tokenizer, device=dev, top_k=None,
                         truncation=True, max_length=joint.config.max_length_tokens)
    return token_pipe, text_pipe


def run_system(system: str, model_dir: str, texts: list[str], batch_size: int, repeats: int, device: str) -> dict:
    import torch
    from rasd.inference import Predictor
    from rasd.text import normalise
    predictor = Predictor.from_pretrained(model_dir, device=device)
    norm_texts = [normalise(t, predictor.normalisation).text for t in texts]
    if system == "rasd":
        def once():
            return predictor.predict(texts, batch_size=batch_size)
    else:
        token_pipe, text_pipe = pipelines_from_joint(model_dir, device)

        def once():
            ents = token_pipe(norm_texts, batch_size=batch_size)
            ops = text_pipe(norm_texts, batch_size=batch_size)
            return [{"entities": e, "operations": o} for e, o in zip(ents, ops)]
    once()  # warm-up
    seconds = []
    for _ in range(repeats):
        if device == "cuda":
            torch.cuda.synchronize()
        start = time.perf_counter()
        outputs = once()
        if device == "cuda":
            torch.cuda.synchronize()
        seconds.append(time.perf_counter() - start)
    spans = [sorted((e["start"], e["end"], e.get("label") or e.get("entity_group")) for e in o["entities"])
             for o in outputs] if system == "rasd" else [
        sorted((e["start"], e["end"], e["entity_group"]) for e in o["entities"]) for o in outputs]
    return {"system": system, "seconds": seconds, "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
            "peak_gpu_mib": torch.cuda.max_memory_allocated() / 2**20 if device == "cuda" else None,
            "normalised_spans": spans if system != "rasd" else None,
            "rasd_spans_normalised": _to_normalised(predictor, texts, outputs) if system == "rasd" else None}


def _to_normalised(predictor, texts, outputs):
    from rasd.text import normalise
    out = []
    for text, o in zip(texts, outputs):
        norm = normalise(text, predictor.normalisation)
        out.append(sorted((*norm.to_normalised(e["start"], e["end"]), e["label"]) for e in o["entities"]))
    return out


def count_tokens(model_dir: str, texts: list[str]) -> int:
    from rasd.inference import Predictor
    from rasd.modeling import encode_windows
    from rasd.text import normalise, words
    p = Predictor.from_pretrained(model_dir, device="cpu")
    words_per = [[n.text[s:e] for s, e in words(n.text)] for n in (normalise(t, p.normalisation) for t in texts)]
    windows = encode_windows(p.tokenizer, words_per, p.model.config.max_length_tokens, p.model.config.stride_tokens)
    return sum(len(ids) for article in windows for ids, _ in article)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", default="models/rasd-ar-base")
    ap.add_argument("--data", default="data/build/indomain_dev.jsonl")
    ap.add_argument("--articles", type=int, default=100)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--batch-size", type=int, default=16)
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--out", default="eval/bench_cpu.json")
    ap.add_argument("--system", help=argparse.SUPPRESS)  # internal: run one system in this process
    args = ap.parse_args()
    texts = load_texts(args.data, args.articles)
    if args.system:
        print(json.dumps(run_system(args.system, args.model, texts, args.batch_size, args.repeats, args.device)))
        return
    results = {}
    for system in ("rasd", "hf_pipelines"):
        cmd = [sys.executable, __file__, *sys.argv[1:], "--system", system]
        done = subprocess.run(cmd, capture_output=True, text=True, check=True)
        results[system] = json.loads(done.stdout.strip().splitlines()[-1])
    tokens = count_tokens(args.model, texts)
    summary = {"command": "python scripts/bench_predict.py " + " ".join(sys.argv[1:]), "articles": len(texts),
               "encoder_tokens": tokens, "device": args.device, "batch_size": args.batch_size, "repeats": args.repeats}
    for system, r in results.items():
        median = statistics.median(r["seconds"])
        summary[system] = {"median_seconds": round(median, 3), "articles_per_s": round(len(texts) / median, 2),
                           "tokens_per_s": round(tokens / median, 1), "peak_rss_mib": round(r["peak_rss_mib"], 1),
                           "peak_gpu_mib": r["peak_gpu_mib"], "seconds": [round(s, 3) for s in r["seconds"]]}
    summary["speedup_articles_per_s"] = round(summary["rasd"]["articles_per_s"] / summary["hf_pipelines"]["articles_per_s"], 2)
    a = [set(map(tuple, x)) for x in results["rasd"]["rasd_spans_normalised"]]
    b = [set(map(tuple, x)) for x in results["hf_pipelines"]["normalised_spans"]]
    same = sum(len(x & y) for x, y in zip(a, b))
    summary["entity_span_agreement_f1"] = round(2 * same / max(sum(map(len, a)) + sum(map(len, b)), 1), 4)
    summary["articles_with_identical_entities"] = sum(x == y for x, y in zip(a, b))
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(summary, indent=1))
    Path(args.out).with_suffix(".md").write_text(bench_markdown(summary))
    print(json.dumps(summary, indent=1))


def bench_markdown(s: dict) -> str:
    import platform
    import torch
    rows = "\n".join(f"| {name} | {s[name]['articles_per_s']} | {s[name]['tokens_per_s']} | {s[name]['median_seconds']} | "
                     f"{s[name]['peak_rss_mib']} | {s[name]['peak_gpu_mib'] or '–'} |" for name in ("rasd", "hf_pipelines"))
    return f"""# Prediction speed: rasd vs the Hugging Face pipeline pair ({s['device']})

Command (rerun it to refresh this file and its JSON twin):

```
{s['command']}
```

{s['articles']} articles, {s['encoder_tokens']} encoder tokens (rasd's windows), batch size {s['batch_size']},
median of {s['repeats']} timed repeats after one warm-up; each system in its own process.
Machine: {platform.machine()}, {torch.get_num_threads()} torch threads, torch {torch.__version__}.

| system | articles/s | tokens/s | median s | peak RSS MiB | peak GPU MiB |
|---|---|---|---|---|---|
{rows}

**rasd / pipelines, articles per second: {s['speedup_articles_per_s']}×.**

Prediction agreement (entity spans compared in normalised-text offsets): span F1 between the two systems
{s['entity_span_agreement_f1']}; articles with identical entity sets: {s['articles_with_identical_entities']} of {s['articles']}.
The pipeline pair is not an exact twin: the token-classification pipeline groups sub-tokens into words its own
way and takes the argmax (rasd uses its word tokenizer and constrained IOB2 Viterbi), and the stock
text-classification model reads the [CLS] pooler through a fresh pooler layer and truncates to one window,
while rasd's head reads the mean over all windows. Operation predictions are therefore not compared.
"""


if __name__ == "__main__":
    main()
