"""Label alignment with word_ids() (WordPiece and SentencePiece-style Unigram), windows, decoding, the model."""
import json
import sys

import numpy as np
import pytest
import torch
from transformers import AutoTokenizer

from rasd.inference import Predictor
from rasd.labels import IGNORE_INDEX, TAG2ID, TAGS
from rasd.modeling import (build_model, collate_windows, encode_windows, viterbi_iob2, window_tag_labels,
                           word_logits_from_windows)
from rasd.text import Normalisation

from conftest import FIXTURES, ROOT

sys.path.insert(0, str(ROOT / "scripts"))


@pytest.fixture(scope="module", params=["wordpiece", "unigram"])
def tokenizer(request, tmp_path_factory):
    from make_fixture import make_tiny_encoder
    texts = [json.loads(l)["text"] for l in open(FIXTURES / "tiny_train.jsonl", encoding="utf-8")]
    out = tmp_path_factory.mktemp(request.param)
    make_tiny_encoder(out, texts, kind=request.param)
    return AutoTokenizer.from_pretrained(out), out


def test_first_subtoken_carries_the_label(tokenizer):
    tok, _ = tokenizer
    words = ["اعتقلت", "الاستخباراتالعسكرية", "قياديا"]  # the middle word splits into several pieces
    (windows,) = encode_windows(tok, [words], 64, 8)
    ((ids, word_ids),) = windows
    tag_ids = [TAG2ID["O"], TAG2ID["B-AGENCY"], IGNORE_INDEX]
    labels = window_tag_labels(word_ids, tag_ids)
    assert word_ids.count(1) > 1, "the test word should split into several sub-tokens"
    first = word_ids.index(1)
    assert labels[first] == TAG2ID["B-AGENCY"]
    assert all(l == IGNORE_INDEX for l, w in zip(labels, word_ids) if w == 1 and l is not labels[first]) or \
        labels[first + 1] == IGNORE_INDEX
    assert labels[word_ids.index(2)] == IGNORE_INDEX  # an ignored word is never trained as O
    assert labels[0] == IGNORE_INDEX and labels[-1] == IGNORE_INDEX  # special tokens


def test_long_article_windows_cover_every_word_with_overlap(tokenizer):
    tok, _ = tokenizer
    words = [f"كلمة{i % 7}" for i in range(300)]
    (windows,) = encode_windows(tok, [words], 48, 12)
    assert len(windows) > 3
    seen = set()
    for (_, wids_a), (_, wids_b) in zip(windows, windows[1:]):
        shared = {w for w in wids_a if w is not None} & {w for w in wids_b if w is not None}
        assert shared, "consecutive windows must overlap"
    for _, wids in windows:
        seen |= {w for w in wids if w is not None}
    assert seen == set(range(300))


def test_entity_across_a_window_edge_is_recovered_whole(tokenizer):
    """Fake logits that say B on word 40 and I on 41-42: the merged decode yields one span wherever windows cut."""
    tok, _ = tokenizer
    words = [f"س{i % 5}" for i in range(120)]
    (windows,) = encode_windows(tok, [words], 40, 10)
    # put a three-word entity across the end of the first window: its last word is only in the second window
    last_of_first = max(w for w in windows[0][1] if w is not None)
    first_of_second = min(w for w in windows[1][1] if w is not None)
    start = last_of_first - 1
    assert first_of_second <= start < last_of_first < start + 2
    gold = {start: "B-LOCATION", start + 1: "I-LOCATION", start + 2: "I-LOCATION"}
    window_logits = []
    for _, wids in windows:
        logits = np.zeros((len(wids), len(TAGS)), dtype=np.float32)
        for p, w in enumerate(wids):
            logits[p, TAG2ID[gold.get(w, "O")] if w is not None else 0] = 5.0
        window_logits.append(logits)
    merged = word_logits_from_windows(windows, window_logits, len(words))
    path = [TAGS[i] for i in viterbi_iob2(np.log(np.exp(merged) / np.exp(merged).sum(-1, keepdims=True)), TAGS)]
    assert path[start:start + 3] == ["B-LOCATION", "I-LOCATION", "I-LOCATION"]
    assert path.count("O") == len(words) - 3


def test_viterbi_never_emits_invalid_iob2():
    rng = np.random.default_rng(0)
    for _ in range(200):
        log_probs = np.log(rng.dirichlet(np.ones(len(TAGS)) * 0.3, size=rng.integers(1, 12)))
        path = [TAGS[i] for i in viterbi_iob2(log_probs, TAGS)]
        previous = "O"
        for tag in path:
            if tag.startswith("I-"):
                assert previous in ("B-" + tag[2:], tag), path
            previous = tag
    # an I- that greedy decoding would emit first becomes B-
    forced = np.log(np.array([[0.1, 0.1, 0.5, 0.1, 0.1, 0.05, 0.05]]))
    assert TAGS[viterbi_iob2(forced, TAGS)[0]] != "I-ARMED_GROUP"


def test_model_forward_loss_and_article_pooling(tokenizer):
    tok, folder = tokenizer
    model = build_model(str(folder), "random", 32, 8, 0.0, Normalisation())
    words = [["قصفت", "طائرات", "التحالف"] * 30, ["خبر", "قصير"]]
    windows = encode_windows(tok, words, 32, 8)
    items = [{"windows": w, "window_tag_labels": [window_tag_labels(wids, None) for _, wids in w],
              "operation_labels": [1.0, 0, 0, 0], "has_operations": True} for w in windows]
    items[1]["has_operations"] = False
    batch = collate_windows(items, tok.pad_token_id)
    assert batch["article_index"].tolist().count(0) == len(windows[0]) > 1
    out = model(**batch)
    assert out["operation_logits"].shape == (2, 4) and torch.isfinite(out["loss"])
    out["loss"].backward()
    assert model.operations_head.weight.grad.abs().sum() > 0
    assert model.tagger.weight.grad is None or model.tagger.weight.grad.abs().sum() == 0  # no tag labels


def test_predictor_offsets_index_the_original_text(tokenizer, tmp_path):
    tok, folder = tokenizer
    model = build_model(str(folder), "random", 32, 8, 0.0, Normalisation())
    with torch.no_grad():  # make the tagger say B-LOCATION everywhere, then I-LOCATION: one long span per run
        model.tagger.weight.zero_()
        model.tagger.bias.copy_(torch.tensor([0, 0, 0, 0, 0, 2.0, 1.0]))
    text = "\u200eقصفت الطائراتُ «الرقةَ» اليوم"
    (pred,) = Predictor(model, tok).predict([text])
    assert pred["entities"], "the forced tagger must produce spans"
    for e in pred["entities"]:
        assert text[e["start"]:e["end"]] == e["text"] and e["text"] and not e["text"][0].isspace()
        assert 0 <= e["score"] <= 1
    assert set(pred["operation_scores"]) == {"RAID", "AIRSTRIKE", "ARREST", "ASSASSINATION"}
