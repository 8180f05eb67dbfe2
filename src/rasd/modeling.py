"""The joint model: any BERT-like encoder, a word-tagging head and an article-level multi-label operations head.

Saved and loaded as ONE Hugging Face model folder (`RasdJointModel.save_pretrained` / `from_pretrained`): the
config holds the encoder's own config, both label maps (`id2label` for tags, `operation_labels`), the window
settings, the normalisation options and the per-operation decision thresholds.

Long articles are cut into overlapping windows of `max_length_tokens` with `stride_tokens` shared tokens. Tag
labels sit on the first sub-token of each word (found with the fast tokenizer's `word_ids()`, so WordPiece and
SentencePiece encoders are served by the same code). The operations head reads a masked mean of the token states
of all windows of an article, so the article label is pooled across windows in training and inference alike.
"""
from __future__ import annotations

import numpy as np
import torch
from torch import nn
from transformers import AutoConfig, AutoModel, PretrainedConfig, PreTrainedModel

from .labels import IGNORE_INDEX, OPERATION_TYPES, TAGS
from .text import Normalisation


class RasdConfig(PretrainedConfig):
    model_type = "rasd_joint"

    def __init__(self, encoder: dict | None = None, operation_labels: list[str] | None = None,
                 operation_thresholds: list[float] | None = None, max_length_tokens: int = 256,
                 stride_tokens: int = 64, classifier_dropout: float = 0.1, normalisation: dict | None = None,
                 **kwargs):
        if "id2label" not in kwargs:
            kwargs["id2label"] = dict(enumerate(TAGS))
        super().__init__(**kwargs)
        self.encoder = encoder or {}
        self.operation_labels = list(operation_labels or OPERATION_TYPES)
        self.operation_thresholds = list(operation_thresholds or [0.5] * len(self.operation_labels))
        self.max_length_tokens = max_length_tokens
        self.stride_tokens = stride_tokens
        self.classifier_dropout = classifier_dropout
        self.normalisation = dict(normalisation or vars(Normalisation()))

    def encoder_config(self) -> PretrainedConfig:
        values = dict(self.encoder)
        return AutoConfig.for_model(values.pop("model_type"), **values)

    def normalisation_options(self) -> Normalisation:
        return Normalisation(**self.normalisation)


def _encoder_from_config(config: PretrainedConfig) -> nn.Module:
    # The pooler is not used (the operations head pools itself); leaving it out avoids unused parameters in DDP.
    try:
        return AutoModel.from_config(config, add_pooling_layer=False)
    except TypeError:
        return AutoModel.from_config(config)


class RasdJointModel(PreTrainedModel):
    config_class = RasdConfig
    base_model_prefix = "rasd"
    supports_gradient_checkpointing = True

    def __init__(self, config: RasdConfig):
        super().__init__(config)
        self.encoder = _encoder_from_config(config.encoder_config())
        hidden = self.encoder.config.hidden_size
        self.dropout = nn.Dropout(config.classifier_dropout)
        self.tagger = nn.Linear(hidden, len(config.id2label))
        self.operations_head = nn.Linear(hidden, len(config.operation_labels))
        self.post_init()

    def _init_weights(self, module):
        if module in (self.tagger, self.operations_head):
            module.weight.data.normal_(0.0, 0.02)
            module.bias.data.zero_()

    def forward(self, input_ids, attention_mask, article_index, token_type_ids=None, tag_labels=None,
                operation_labels=None, operation_mask=None, operations_loss_weight: float = 1.0):
        """Windows in, per-token tag logits and per-article operation logits out (plus the loss with labels).

        `article_index[w]` names the article of window w (0..A-1 within the batch). `operation_mask[a]` is 0 for
        an article without operation labels; `tag_labels` is IGNORE_INDEX where a word is unlabelled or ignored.
        """
        kwargs = {"token_type_ids": token_type_ids} if token_type_ids is not None else {}
        hidden = self.encoder(input_ids=input_ids, attention_mask=attention_mask, **kwargs).last_hidden_state
        tag_logits = self.tagger(self.dropout(hidden))
        mask = attention_mask.unsqueeze(-1).to(hidden.dtype)
        num_articles = int(article_index.max().item()) + 1
        sums = torch.zeros(num_articles, hidden.shape[-1], device=hidden.device, dtype=torch.float32)
        sums.index_add_(0, article_index, (hidden * mask).sum(1).float())
        counts = torch.zeros(num_articles, 1, device=hidden.device, dtype=torch.float32)
        counts.index_add_(0, article_index, mask.sum(1).float())
        pooled = (sums / counts.clamp(min=1.0)).to(hidden.dtype)
        operation_logits = self.operations_head(self.dropout(pooled))
        out = {"tag_logits": tag_logits, "operation_logits": operation_logits, "article_vectors": pooled}
        if tag_labels is not None or operation_labels is not None:
            loss = tag_logits.float().sum() * 0.0  # keeps the graph whole when a batch has neither kind of label
            if tag_labels is not None and (tag_labels != IGNORE_INDEX).any():
                loss = loss + nn.functional.cross_entropy(tag_logits.float().view(-1, tag_logits.shape[-1]),
                                                          tag_labels.view(-1), ignore_index=IGNORE_INDEX)
            if operation_labels is not None and operation_mask is not None and operation_mask.any():
                per_article = nn.functional.binary_cross_entropy_with_logits(
                    operation_logits.float(), operation_labels.float(), reduction="none").mean(-1)
                weights = operation_mask.float()
                loss = loss + operations_loss_weight * (per_article * weights).sum() / weights.sum()
            out["loss"] = loss
        return out


AutoConfig.register(RasdConfig.model_type, RasdConfig, exist_ok=True)
AutoModel.register(RasdConfig, RasdJointModel, exist_ok=True)


def build_model(encoder_path: str, init: str, max_length_tokens: int, stride_tokens: int, dropout: float,
                normalisation: Normalisation) -> RasdJointModel:
    """A fresh joint model around the encoder at `encoder_path` (pretrained weights, or its config at random)."""
    encoder_config = AutoConfig.from_pretrained(encoder_path)
    config = RasdConfig(encoder=encoder_config.to_dict(), max_length_tokens=max_length_tokens,
                        stride_tokens=stride_tokens, classifier_dropout=dropout, normalisation=vars(normalisation))
    model = RasdJointModel(config)
    if init == "pretrained":
        try:
            pretrained = AutoModel.from_pretrained(encoder_path, add_pooling_layer=False)
        except TypeError:
            pretrained = AutoModel.from_pretrained(encoder_path)
        missing, unexpected = model.encoder.load_state_dict(pretrained.state_dict(), strict=False)
        if missing:
            raise ValueError(f"{encoder_path}: encoder weights lack {missing[:5]} ...")
    elif init != "random":
        raise ValueError(f"model.init must be 'pretrained' or 'random', got {init!r}")
    return model


# ---------------------------------------------------------------- windows

def encode_windows(tokenizer, articles_words: list[list[str]], max_length_tokens: int, stride_tokens: int):
    """Tokenize word lists into overlapping windows.

    Returns a list (one per article) of lists of windows; a window is (input_ids, word_ids) with word_ids[i] the
    article-level word index of token i (None for special tokens).
    """
    if not getattr(tokenizer, "is_fast", False):
        raise ValueError("a fast tokenizer is required (word_ids() aligns labels); got " + type(tokenizer).__name__)
    # An empty article still gets one window of special tokens, so it can carry an operations prediction.
    safe = [w if w else [""] for w in articles_words]
    enc = tokenizer(safe, is_split_into_words=True, truncation=True, max_length=max_length_tokens,
                    stride=stride_tokens, return_overflowing_tokens=True, return_attention_mask=False)
    out: list[list[tuple[list[int], list[int | None]]]] = [[] for _ in articles_words]
    for w, article in enumerate(enc["overflow_to_sample_mapping"]):
        word_ids = enc.word_ids(w)
        if not articles_words[article]:
            word_ids = [None] * len(word_ids)
        out[article].append((enc["input_ids"][w], word_ids))
    return out


def window_tag_labels(word_ids: list[int | None], word_tag_ids: list[int] | None) -> list[int]:
    """Label the first sub-token of each word; every other position (and every unlabelled word) is ignored."""
    labels, previous = [], None
    for wid in word_ids:
        if wid is None or wid == previous or word_tag_ids is None:
            labels.append(IGNORE_INDEX)
        else:
            labels.append(word_tag_ids[wid])
        previous = wid
    return labels


def collate_windows(items: list[dict], pad_token_id: int) -> dict:
    """Pad the windows of a batch of articles into tensors; items carry `windows`, optional labels."""
    windows, article_index, tag_labels = [], [], []
    for a, item in enumerate(items):
        for w, (ids, word_ids) in enumerate(item["windows"]):
            windows.append(ids)
            article_index.append(a)
            if "window_tag_labels" in item:
                tag_labels.append(item["window_tag_labels"][w])
    width = max(len(ids) for ids in windows)
    input_ids = torch.full((len(windows), width), pad_token_id, dtype=torch.long)
    attention_mask = torch.zeros((len(windows), width), dtype=torch.long)
    for i, ids in enumerate(windows):
        input_ids[i, : len(ids)] = torch.tensor(ids)
        attention_mask[i, : len(ids)] = 1
    batch = {"input_ids": input_ids, "attention_mask": attention_mask,
             "article_index": torch.tensor(article_index, dtype=torch.long)}
    if tag_labels:
        labels = torch.full((len(windows), width), IGNORE_INDEX, dtype=torch.long)
        for i, row in enumerate(tag_labels):
            labels[i, : len(row)] = torch.tensor(row)
        batch["tag_labels"] = labels
    if items and "operation_labels" in items[0]:
        batch["operation_labels"] = torch.tensor([it["operation_labels"] for it in items], dtype=torch.float32)
        batch["operation_mask"] = torch.tensor([it["has_operations"] for it in items], dtype=torch.bool)
    return batch


# ---------------------------------------------------------------- decoding

def word_logits_from_windows(windows: list[tuple[list[int], list[int | None]]], window_logits: list[np.ndarray],
                             num_words: int) -> np.ndarray:
    """One logit row per word: from the window where the word's first sub-token sits farthest from an edge."""
    num_tags = window_logits[0].shape[-1]
    best = np.full(num_words, -1.0)
    out = np.zeros((num_words, num_tags), dtype=np.float32)
    for (_, word_ids), logits in zip(windows, window_logits):
        length, previous = len(word_ids), None
        for position, wid in enumerate(word_ids):
            if wid is not None and wid != previous:
                margin = min(position, length - 1 - position)
                if margin > best[wid]:
                    best[wid] = margin
                    out[wid] = logits[position]
            previous = wid
    return out


def _allowed_transitions(tags: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """IOB2: I-X may follow only B-X or I-X, and may not start a sentence."""
    n = len(tags)
    allowed = np.ones((n, n), dtype=bool)
    start = np.ones(n, dtype=bool)
    for j, tag in enumerate(tags):
        if tag.startswith("I-"):
            start[j] = False
            for i, prev in enumerate(tags):
                allowed[i, j] = prev in (f"B-{tag[2:]}", tag)
    return allowed, start


def viterbi_iob2(log_probs: np.ndarray, tags: list[str]) -> list[int]:
    """Most probable tag sequence among valid IOB2 sequences (per-word log-probabilities, no learned transitions)."""
    if len(log_probs) == 0:
        return []
    allowed, start = _allowed_transitions(tags)
    penalty = np.where(allowed, 0.0, -np.inf)
    score = np.where(start, log_probs[0], -np.inf)
    back = np.zeros(log_probs.shape, dtype=np.int64)
    for t in range(1, len(log_probs)):
        candidates = score[:, None] + penalty
        back[t] = candidates.argmax(0)
        score = candidates.max(0) + log_probs[t]
    path = [int(score.argmax())]
    for t in range(len(log_probs) - 1, 0, -1):
        path.append(int(back[t, path[-1]]))
    return path[::-1]


def log_softmax(x: np.ndarray) -> np.ndarray:
    x = x - x.max(-1, keepdims=True)
    return x - np.log(np.exp(x).sum(-1, keepdims=True))
