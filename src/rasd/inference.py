"""Prediction over a model folder: `Predictor.from_pretrained(path_or_id).predict(texts)`.

Texts are normalised with the model's stored options, split into words, windowed, run through the joint model in
length-sorted batches, decoded into valid IOB2 (constrained Viterbi over word log-probabilities) and mapped back
to offsets in the ORIGINAL text. `predict_stream` keeps memory bounded for any number of articles.
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Iterable, Iterator

import numpy as np
import torch
from transformers import AutoTokenizer

from .modeling import (RasdJointModel, collate_windows, encode_windows, log_softmax, viterbi_iob2,
                       word_logits_from_windows)
from .text import normalise, tags_to_spans, words


def resolve_model_path(path_or_id: str) -> str:
    """A local folder as is; otherwise a hub id looked up in the local Hugging Face cache only (no network)."""
    if Path(path_or_id).is_dir():
        return str(path_or_id)
    if path_or_id.startswith((".", "/")) or path_or_id.count("/") > 1:
        raise FileNotFoundError(f"{path_or_id}: no such model folder")
    from huggingface_hub import snapshot_download
    try:
        return snapshot_download(repo_id=path_or_id, local_files_only=True)
    except Exception as err:  # the hub library raises several types for "not cached"
        cache = os.environ.get("HF_HUB_CACHE") or os.environ.get("HF_HOME") or "~/.cache/huggingface"
        raise FileNotFoundError(f"{path_or_id}: not a folder, and not found in the local Hugging Face cache "
                                f"({cache}); download it on a connected machine or pass a folder") from err


def decide_operations(scores: dict, labels: list[str], thresholds) -> list[str]:
    """The operations whose score reaches its own decision threshold, in label order."""
    return [op for op, t in zip(labels, thresholds) if scores[op] >= t]


def pick_device(device: str = "auto") -> torch.device:
    if device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if device.startswith("cuda") and not torch.cuda.is_available():
        raise RuntimeError("--device cuda was asked for, but torch sees no CUDA device")
    return torch.device(device)


class Predictor:
    """A joint model, its tokenizer and its decision thresholds, ready to label articles."""

    def __init__(self, model: RasdJointModel, tokenizer, device: torch.device | str = "cpu"):
        self.device = torch.device(device)
        self.model = model.to(self.device).eval()
        self.tokenizer = tokenizer
        config = model.config
        self.tags = [config.id2label[i] for i in range(len(config.id2label))]
        self.operations = list(config.operation_labels)
        self.thresholds = np.array(config.operation_thresholds, dtype=np.float32)
        self.normalisation = config.normalisation_options()

    @classmethod
    def from_pretrained(cls, path_or_id: str, device: str = "auto") -> "Predictor":
        folder = resolve_model_path(path_or_id)
        target = pick_device(device)
        # fp16 weights are stored to keep the folder small; CPUs compute fastest in fp32.
        dtype = torch.float32 if target.type == "cpu" else (
            torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16)
        model = RasdJointModel.from_pretrained(folder, dtype=dtype)
        tokenizer = AutoTokenizer.from_pretrained(folder)
        return cls(model, tokenizer, target)

    def predict(self, texts: Iterable[str], batch_size: int = 16) -> list[dict]:
        """Predictions for `texts`, in order: {"entities": [...], "operations": [...], "operation_scores": {...}}."""
        return list(self.predict_stream(texts, batch_size))

    def predict_stream(self, texts: Iterable[str], batch_size: int = 16, sort_pool: int = 8) -> Iterator[dict]:
        """Yield predictions in input order; at most `batch_size * sort_pool` articles are held at once."""
        pool: list[str] = []
        for text in texts:
            pool.append(text)
            if len(pool) >= batch_size * sort_pool:
                yield from self._predict_pool(pool, batch_size)
                pool = []
        if pool:
            yield from self._predict_pool(pool, batch_size)

    def _predict_pool(self, texts: list[str], batch_size: int) -> list[dict]:
        # Sorting by length keeps padding small; results go back to input order.
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        results: list[dict | None] = [None] * len(texts)
        for k in range(0, len(order), batch_size):
            chunk = order[k:k + batch_size]
            for i, result in zip(chunk, self._predict_batch([texts[i] for i in chunk])):
                results[i] = result
        return results  # type: ignore[return-value]

    def _forward(self, texts: list[str]):
        config = self.model.config
        norms = [normalise(t, self.normalisation) for t in texts]
        word_offsets = [words(n.text) for n in norms]
        word_strings = [[n.text[s:e] for s, e in offs] for n, offs in zip(norms, word_offsets)]
        windows = encode_windows(self.tokenizer, word_strings, config.max_length_tokens, config.stride_tokens)
        batch = collate_windows([{"windows": w} for w in windows], self.tokenizer.pad_token_id)
        batch = {k: v.to(self.device) for k, v in batch.items()}
        return norms, word_offsets, windows, self.model(**batch)

    @torch.inference_mode()
    def article_vectors(self, texts: list[str], batch_size: int = 16) -> np.ndarray:
        """The pooled article vectors the operations head reads (one row per text)."""
        rows = [self._forward(texts[k:k + batch_size])[3]["article_vectors"].float().cpu().numpy()
                for k in range(0, len(texts), batch_size)]
        return np.concatenate(rows) if rows else np.zeros((0, self.model.config.encoder["hidden_size"]))

    @torch.inference_mode()
    def _predict_batch(self, texts: list[str]) -> list[dict]:
        norms, word_offsets, windows, out = self._forward(texts)
        tag_logits = out["tag_logits"].float().cpu().numpy()
        operation_probs = torch.sigmoid(out["operation_logits"].float()).cpu().numpy()
        results, w = [], 0
        for a, text in enumerate(texts):
            article_windows = windows[a]
            lengths = [len(ids) for ids, _ in article_windows]
            logits = [tag_logits[w + j, :n] for j, n in enumerate(lengths)]
            w += len(article_windows)
            entities = self._decode_entities(text, norms[a], word_offsets[a], article_windows, logits)
            probs = operation_probs[a]
            results.append({
                "entities": entities,
                "operations": decide_operations(dict(zip(self.operations, probs)), self.operations, self.thresholds),
                "operation_scores": {op: round(float(p), 4) for op, p in zip(self.operations, probs)},
            })
        return results

    def _decode_entities(self, text, norm, offsets, article_windows, logits) -> list[dict]:
        if not offsets:
            return []
        log_probs = log_softmax(word_logits_from_windows(article_windows, logits, len(offsets)))
        path = viterbi_iob2(log_probs, self.tags)
        entities = []
        for span in tags_to_spans(offsets, [self.tags[i] for i in path]):
            first, last = span["words"]
            score = float(np.exp(log_probs[np.arange(first, last), path[first:last]]).mean())
            start, end = norm.to_original(span["start"], span["end"])
            entities.append({"start": start, "end": end, "label": span["label"], "text": text[start:end],
                             "score": round(score, 4)})
        return entities


# ---------------------------------------------------------------- batch prediction over files

class InputError(ValueError):
    """A bad input record: reported and skipped by `predict_files`, never fatal."""


def iter_inputs(paths: list[str], stdin=None) -> Iterator[tuple[str, str] | InputError]:
    """(id, text) for every article in `paths`, or an InputError naming file, line and field, lazily.

    A path is spec JSONL (`.jsonl`/`.json`: `text` required, `id` optional), a `.txt` file (one article), a
    folder (its `.txt` files, recursively, sorted) or `-` (stdin: JSONL when it starts with `{`, else one article
    per non-blank line). Articles without an id get `FILE:LINE` (or the file path), so `--resume` can find them.
    """
    import itertools
    import sys
    from .data import iter_jsonl
    for path in paths:
        if path == "-":
            stream = stdin if stdin is not None else sys.stdin
            head = []  # read up to the first non-blank line to tell JSONL from plain text; the rest streams
            for line in stream:
                head.append(line)
                if line.strip():
                    break
            lines = itertools.chain(head, stream)
            if head and head[-1].lstrip().startswith("{"):
                for where, item in iter_jsonl("<stdin>", lines):
                    yield _json_input(item, where)
            else:
                for number, line in enumerate(lines, start=1):
                    if line.strip():
                        yield f"<stdin>:{number}", line.rstrip("\n")
            continue
        p = Path(path)
        if p.is_dir():
            for file in sorted(p.rglob("*.txt")):
                yield _txt_input(file)
        elif p.suffix in (".jsonl", ".json"):
            try:
                for where, item in iter_jsonl(p):
                    yield _json_input(item, where)
            except OSError as err:
                yield InputError(f"{p}: cannot read: {err.strerror}")
        elif p.is_file():
            yield _txt_input(p)
        else:
            yield InputError(f"{path}: no such file or folder")


def _json_input(record, where: str) -> tuple[str, str] | InputError:
    from .data import RecordError
    if isinstance(record, RecordError):
        return InputError(str(record))
    if not isinstance(record, dict):
        return InputError(f"{where}: field '<record>': must be a JSON object")
    if not isinstance(record.get("text"), str):
        return InputError(f"{where}: field 'text': is required and must be a string")
    rid = record.get("id", where)
    if not isinstance(rid, (str, int)):
        return InputError(f"{where}: field 'id': must be a string")
    return str(rid), record["text"]


def _txt_input(path: Path) -> tuple[str, str] | InputError:
    try:
        return str(path), path.read_text(encoding="utf-8")
    except UnicodeDecodeError as err:
        return InputError(f"{path}: not UTF-8 ({err.reason})")
    except OSError as err:
        return InputError(f"{path}: cannot read: {err.strerror}")


def done_ids(out_path: Path) -> set[str]:
    """Ids already in a prediction file; a last line cut short by a crash is removed first."""
    import json
    if not out_path.exists():
        return set()
    data = out_path.read_bytes()
    if data and not data.endswith(b"\n"):
        cut = data.rfind(b"\n") + 1
        with open(out_path, "r+b") as f:
            f.truncate(cut)
        data = data[:cut]
    ids = set()
    for line in data.decode("utf-8").splitlines():
        if line.strip():
            ids.add(str(json.loads(line)["id"]))
    return ids


def predict_files(predictor: Predictor, paths: list[str], out, batch_size: int = 16, resume_ids: set[str] = frozenset(),
                  include_text: bool = True, on_error=None, progress: bool = False, chunk_articles: int = 256) -> dict:
    """Stream predictions for every article in `paths` into the text stream `out`, one whole line per write.

    Bad inputs go to `on_error(message)` and are skipped. Memory holds at most `chunk_articles` articles.
    Returns counts: predicted, skipped_done, bad.
    """
    import json
    from tqdm.auto import tqdm
    counts = {"predicted": 0, "skipped_done": 0, "bad": 0}
    bar = tqdm(desc="predict", unit="article", disable=not progress)
    chunk: list[tuple[str, str]] = []

    def flush():
        for (rid, text), result in zip(chunk, predictor.predict([t for _, t in chunk], batch_size=batch_size)):
            record = {"id": rid, **({"text": text} if include_text else {}), **result}
            out.write(json.dumps(record, ensure_ascii=False) + "\n")
        out.flush()
        counts["predicted"] += len(chunk)
        bar.update(len(chunk))
        chunk.clear()

    for item in iter_inputs(paths):
        if isinstance(item, InputError):
            counts["bad"] += 1
            if on_error:
                on_error(str(item))
            continue
        if item[0] in resume_ids:
            counts["skipped_done"] += 1
            continue
        chunk.append(item)
        if len(chunk) >= chunk_articles:
            flush()
    if chunk:
        flush()
    bar.close()
    return counts
