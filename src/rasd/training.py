"""Fine-tuning the joint model: one linear accelerate loop, top to bottom.

Data → windows with labels → AdamW (encoder and heads at their own rates) with warmup + linear decay →
gradient accumulation, mixed precision on GPU → periodic dev evaluation, best checkpoint kept on a mix of strict
entity micro-F1 and operations macro-F1 → per-operation thresholds tuned on dev → one self-describing model folder.
`resume=True` continues from `OUTPUT_DIR/checkpoint` (model, optimiser, scheduler, RNG and data position).
Runs under `accelerate launch` with several processes; only the main process evaluates and writes the model.
"""
from __future__ import annotations

import dataclasses
import json
import math
import shutil
import time
from pathlib import Path

import torch
from torch import nn
from accelerate import Accelerator, DataLoaderConfiguration
from accelerate.utils import set_seed
from torch.utils.data import DataLoader
from tqdm.auto import tqdm
from transformers import AutoTokenizer, get_linear_schedule_with_warmup

from .config import RunConfig, config_to_toml
from .data import pack_records, read_records
from .evaluation import evaluate_predictions, report_markdown, selection_score, tune_thresholds
from .inference import Predictor, decide_operations, resolve_model_path
from .labels import IGNORE_INDEX, OPERATION_TYPES, TAG2ID
from .modeling import build_model, collate_windows, encode_windows, window_tag_labels
from .text import Normalisation, word_tags_for_text


def normalisation_of(config: RunConfig) -> Normalisation:
    m = config.model
    return Normalisation(fold_alef=m.fold_alef, fold_ya=m.fold_ya, fold_ta_marbuta=m.fold_ta_marbuta)


def load_split(paths: list[str], cap: int = 0, repeats: list[int] = ()) -> list[dict]:
    """Records of every file, at most `cap` per file, each file `repeats[i]` times (default once)."""
    if repeats and len(repeats) != len(paths):
        raise ValueError(f"data.train_repeats has {len(repeats)} entries for {len(paths)} train files")
    records = []
    for i, path in enumerate(paths):
        rows, _ = read_records(path, on_error="raise")
        records += (rows[:cap] if cap else rows) * (repeats[i] if repeats else 1)
    return records


def training_items(records: list[dict], tokenizer, config: RunConfig) -> list[dict]:
    """Windows and labels per article: tags for records with `entities`, operations for those with `operations`."""
    options = normalisation_of(config)
    words_per_article, tag_ids_per_article = [], []
    for record in records:
        regions = [{"start": r["start"], "end": r["end"], "label": None} for r in record.get("ignore", [])]
        norm, offsets, tags, ignored = word_tags_for_text(record["text"], record.get("entities", []) + regions, options)
        words_per_article.append([norm.text[s:e] for s, e in offsets])
        if "entities" in record:
            tag_ids_per_article.append([IGNORE_INDEX if ig else TAG2ID[t] for t, ig in zip(tags, ignored)])
        else:
            tag_ids_per_article.append(None)
    windows = encode_windows(tokenizer, words_per_article, config.model.max_length_tokens, config.model.stride_tokens)
    items = []
    for record, article_windows, tag_ids in zip(records, windows, tag_ids_per_article):
        ops = record.get("operations")
        items.append({"windows": article_windows,
                      "window_tag_labels": [window_tag_labels(wids, tag_ids) for _, wids in article_windows],
                      "operation_labels": [float(o in (ops or [])) for o in OPERATION_TYPES],
                      "has_operations": ops is not None})
    return items


def pick_precision(setting: str) -> str:
    if setting != "auto":
        return setting
    if not torch.cuda.is_available():
        return "no"
    return "bf16" if torch.cuda.is_bf16_supported() else "fp16"


def evaluate_model(model, tokenizer, records: list[dict], batch_size: int, device) -> tuple[dict, list[dict]]:
    predictor = Predictor(model, tokenizer, device)
    predictions = predictor.predict([r["text"] for r in records], batch_size=batch_size)
    report, _ = evaluate_predictions(records, predictions, predictor.normalisation)
    return report, predictions


def train(config: RunConfig, resume: bool = False, progress: bool = True) -> dict:
    """Train as `config` says; returns the final dev report (with tuned thresholds) and writes the model folder."""
    t = config.train
    out = Path(t.output_dir)
    if t.num_threads:
        torch.set_num_threads(t.num_threads)
    accelerator = Accelerator(mixed_precision=pick_precision(t.mixed_precision),
                              gradient_accumulation_steps=t.grad_accum_steps, log_with="tensorboard",
                              project_dir=str(out / "logs"),
                              dataloader_config=DataLoaderConfiguration(use_seedable_sampler=True))
    set_seed(t.seed)
    encoder_path = resolve_model_path(config.model.encoder)
    tokenizer = AutoTokenizer.from_pretrained(encoder_path)
    model = build_model(encoder_path, config.model.init, config.model.max_length_tokens, config.model.stride_tokens,
                        config.model.dropout, normalisation_of(config))
    train_records = load_split(config.data.train, config.data.max_train_records, config.data.train_repeats)
    if config.data.pack_sentences_words:
        train_records = pack_records(train_records, config.data.pack_sentences_words)
    dev_records = load_split(config.data.dev)
    if not train_records:
        raise ValueError("data.train names no records")
    items = training_items(train_records, tokenizer, config)
    loader = DataLoader(items, batch_size=t.batch_size_articles, shuffle=True,
                        collate_fn=lambda batch: collate_windows(batch, tokenizer.pad_token_id))

    heads = [p for n, p in model.named_parameters() if not n.startswith("encoder.")]
    decay = [p for n, p in model.encoder.named_parameters() if p.ndim > 1]
    no_decay = [p for n, p in model.encoder.named_parameters() if p.ndim <= 1]  # biases and LayerNorm
    optimizer = torch.optim.AdamW([
        {"params": decay, "lr": t.learning_rate, "weight_decay": t.weight_decay},
        {"params": no_decay, "lr": t.learning_rate, "weight_decay": 0.0},
        {"params": heads, "lr": t.head_learning_rate, "weight_decay": 0.0}])
    steps_per_epoch = math.ceil(len(loader) / accelerator.num_processes / t.grad_accum_steps)
    total_steps = t.max_steps or max(1, math.ceil(t.epochs * steps_per_epoch))
    scheduler = get_linear_schedule_with_warmup(optimizer, int(t.warmup_ratio * total_steps), total_steps)
    model, optimizer, loader, scheduler = accelerator.prepare(model, optimizer, loader, scheduler)

    state = {"step": 0, "epoch": 0, "batches_done_in_epoch": 0, "best_score": -1.0, "best_step": 0, "history": []}
    checkpoint = out / "checkpoint"
    if resume:
        if not (checkpoint / "trainer_state.json").exists():
            raise FileNotFoundError(f"{checkpoint}: no checkpoint to resume from")
        accelerator.load_state(str(checkpoint))
        state = json.loads((checkpoint / "trainer_state.json").read_text())
    if accelerator.is_main_process:
        out.mkdir(parents=True, exist_ok=True)
        (out / "resolved_config.toml").write_text(config_to_toml(config))
    accelerator.init_trackers("rasd", config={f"{s}.{k}": str(v) for s, sec in dataclasses.asdict(config).items()
                                              for k, v in sec.items()})
    bar = tqdm(total=total_steps, initial=state["step"], desc="train", disable=not (progress and accelerator.is_main_process))
    started, running_loss, seen = time.time(), 0.0, 0

    def save_checkpoint():
        accelerator.save_state(str(checkpoint))
        if accelerator.is_main_process:
            (checkpoint / "trainer_state.json").write_text(json.dumps(state, indent=1))

    while state["step"] < total_steps:
        loader.set_epoch(state["epoch"])
        batches = accelerator.skip_first_batches(loader, state["batches_done_in_epoch"]) \
            if state["batches_done_in_epoch"] else loader
        for batch in batches:
            model.train()
            with accelerator.accumulate(model):
                loss = model(**batch, operations_loss_weight=t.operations_loss_weight)["loss"]
                accelerator.backward(loss)
                if accelerator.sync_gradients:
                    accelerator.clip_grad_norm_(model.parameters(), t.max_grad_norm)
                optimizer.step()
                scheduler.step()
                optimizer.zero_grad()
            state["batches_done_in_epoch"] += 1
            running_loss, seen = running_loss + loss.item(), seen + 1
            if not accelerator.sync_gradients:
                continue
            state["step"] += 1
            bar.update(1)
            step = state["step"]
            if step % t.log_every_steps == 0 or step == total_steps:
                accelerator.log({"train/loss": running_loss / seen, "train/lr": scheduler.get_last_lr()[0]}, step=step)
                bar.set_postfix(loss=f"{running_loss / seen:.4f}")
                running_loss, seen = 0.0, 0
            if dev_records and (step % t.eval_every_steps == 0 or step == total_steps):
                if accelerator.is_main_process:
                    unwrapped = accelerator.unwrap_model(model)
                    report, _ = evaluate_model(unwrapped, tokenizer, dev_records, t.eval_batch_size_articles,
                                               accelerator.device)
                    score = selection_score(report, t.select_entity_weight)
                    state["history"].append({"step": step, "score": score})
                    accelerator.log({"dev/selection_score": score}, step=step)
                    if score > state["best_score"]:
                        state["best_score"], state["best_step"] = score, step
                        unwrapped.save_pretrained(out / "best")
                        tokenizer.save_pretrained(out / "best")
                accelerator.wait_for_everyone()
            if step % t.checkpoint_every_steps == 0 or step == total_steps:
                save_checkpoint()
            if step >= total_steps:
                break
        else:
            state["epoch"] += 1
            state["batches_done_in_epoch"] = 0
    bar.close()
    accelerator.end_training()
    accelerator.wait_for_everyone()
    result = {}
    if accelerator.is_main_process:
        result = finish(accelerator.unwrap_model(model), tokenizer, config, dev_records, state,
                        accelerator.device, time.time() - started, train_records)
    accelerator.wait_for_everyone()
    return result


def refit_operations_head(model, tokenizer, records: list[dict], config: RunConfig, device) -> None:
    """Refit the operations head on frozen article vectors of the training records (a linear probe).

    Fine-tuning moves the encoder for the tagger; the article vectors of a sentence-embedding encoder differ
    little between articles, and a head trained jointly for a few hundred steps stays near the label prior.
    Fitting the head on standardised vectors (full batch, L2) and folding the scaling back into its weights
    gives a head that reads the same vectors at inference.
    """
    unique = {r["id"]: r for r in records if "operations" in r}.values()  # oversampled copies count once
    rows = list(unique)
    if not rows:
        return
    predictor = Predictor(model, tokenizer, device)
    x = torch.tensor(predictor.article_vectors([r["text"] for r in rows], config.train.eval_batch_size_articles))
    y = torch.tensor([[float(o in r["operations"]) for o in OPERATION_TYPES] for r in rows])
    mean, std = x.mean(0), x.std(0).clamp(min=1e-6)
    z = (x - mean) / std
    head = nn.Linear(z.shape[1], y.shape[1])
    optimizer = torch.optim.AdamW(head.parameters(), lr=1e-2, weight_decay=config.train.refit_weight_decay)
    for _ in range(config.train.refit_operations_head_steps):
        optimizer.zero_grad()
        nn.functional.binary_cross_entropy_with_logits(head(z), y).backward()
        optimizer.step()
    with torch.no_grad():  # head(z) == W (x - mean) / std + b == (W / std) x + (b - (W / std) mean)
        weight = head.weight / std
        target = model.operations_head
        target.weight.copy_(weight.to(target.weight))
        target.bias.copy_((head.bias - weight @ mean).to(target.bias))


def finish(model, tokenizer, config: RunConfig, dev_records: list[dict], state: dict, device, seconds: float,
           train_records: list[dict] = ()) -> dict:
    """Reload the best checkpoint, refit the operations head if asked, tune thresholds on dev, write the model."""
    out = Path(config.train.output_dir)
    if (out / "best").exists():
        model = type(model).from_pretrained(out / "best").to(device)
    report: dict = {}
    if config.train.refit_operations_head_steps and train_records:
        refit_operations_head(model, tokenizer, train_records, config, device)
    if dev_records:
        _, predictions = evaluate_model(model, tokenizer, dev_records, config.train.eval_batch_size_articles, device)
        thresholds = tune_thresholds(dev_records, predictions)
        model.config.operation_thresholds = thresholds
        # entities do not depend on the thresholds: re-decide the operations from the scores already computed
        for p in predictions:
            p["operations"] = decide_operations(p["operation_scores"], model.config.operation_labels, thresholds)
        report, _ = evaluate_predictions(dev_records, predictions, normalisation_of(config))
    model.save_pretrained(out)
    tokenizer.save_pretrained(out)
    licences = sorted({r["licence"] for r in train_records if r.get("licence")})
    metrics = {"dev": report, "best_step": state["best_step"], "steps": state["step"],
               "selection_score": state["best_score"], "operation_thresholds":
               dict(zip(model.config.operation_labels, model.config.operation_thresholds)),
               "train_seconds_this_run": round(seconds, 1), "training_data_licences": licences}
    (out / "metrics.json").write_text(json.dumps(metrics, indent=1))
    (out / "README.md").write_text(model_card(config, metrics))
    shutil.rmtree(out / "best", ignore_errors=True)
    return metrics


def model_card(config: RunConfig, metrics: dict) -> str:
    dev = metrics.get("dev") or {}
    body = report_markdown(dev, "Dev metrics") if dev else "No dev set was given: no metrics."
    nc_note = ("\n  A non-commercial licence among them restricts commercial use of this model."
               if any("NC" in licence for licence in metrics["training_data_licences"]) else "")
    return f"""---
language: ar
library_name: transformers
tags: [token-classification, text-classification, arabic, rasd]
---
# rasd joint model

Tags ARMED_GROUP, AGENCY and LOCATION spans and classifies an article's operation types (RAID, AIRSTRIKE,
ARREST, ASSASSINATION; multi-label, possibly none), per the rasd label specification v1.1.

- Encoder: `{config.model.encoder}` ({config.model.init}); window {config.model.max_length_tokens} tokens,
  stride {config.model.stride_tokens}.
- Training data: {", ".join(config.data.train)}; dev: {", ".join(config.data.dev) or "none"}.
- Licences of the training records: {"; ".join(metrics["training_data_licences"]) or "not recorded"}.{nc_note}
- Steps: {metrics['steps']} (best on dev at step {metrics['best_step']}); operation thresholds tuned on dev:
  {metrics['operation_thresholds']}.
- Use: `rasd predict --model THIS_FOLDER articles.jsonl -o predictions.jsonl`, or
  `from rasd import Predictor; Predictor.from_pretrained("THIS_FOLDER").predict(texts)`.
- Limits: trained for Arabic news about security operations in Syria and Iraq; span boundaries are whole words
  (a proclitic glued to a name is inside the predicted span); thresholds were tuned on the same dev set the
  numbers below come from, so they are optimistic.

{body}
"""
