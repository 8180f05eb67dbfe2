"""Write the small synthetic fixture bundled with the repo: tests/fixtures/tiny_{train,dev}.jsonl and a tiny encoder.

The articles are generated from templates written for this project (no text from ../shared), so the tiny recipe
and the tests run on a fresh clone. The tiny encoder folder holds a BERT config and a WordPiece tokenizer trained
on the fixture text; its weights are drawn at random when a run starts (`model.init = "random"`).

    python scripts/make_fixture.py            # rewrites tests/fixtures/
"""
from __future__ import annotations

import json
import random
from pathlib import Path

GROUPS = ["داعش", "تنظيم الدولة الإسلامية", "هيئة تحرير الشام", "قوات سوريا الديمقراطية", "كتائب حزب الله",
          "ولاية خراسان", "الأسايش"]
AGENCIES = ["جهاز الأمن الوطني العراقي", "خلية الإعلام الأمني", "قيادة العمليات المشتركة", "الجيش العراقي",
            "وزارة الداخلية السورية", "التحالف الدولي", "الحشد الشعبي", "اللواء 45"]
PLACES = ["الرقة", "دير الزور", "البصيرة", "الحسكة", "وادي الشاي", "الفرات", "مخيم المحمودلي", "سوريا", "العراق",
          "كركوك", "الموصل", "الأنبار"]
# (template, operations). {A}=agency, {G}=armed group, {L}=place; the proclitic forms test span rules.
TEMPLATES = [
    ("نفذ {A} عملية مداهمة في {L} واعتقل ثلاثة من عناصر {G} .", ["RAID", "ARREST"]),
    ("أعلن {A} أن طائرات {A2} شنت غارة جوية على مواقع {G} في {L} .", ["AIRSTRIKE"]),
    ("اغتال مسلحون من {G} القيادي المعروف في {L} بعبوة لاصقة .", ["ASSASSINATION"]),
    ("قال {A} إن قواته ألقت القبض على قيادي في {G} ب{L} .", ["ARREST"]),
    ("زار وفد من {A} مدينة {L} لبحث الأوضاع الخدمية مع الأهالي .", []),
    ("استهدفت طائرة مسيّرة تابعة ل{A} اجتماعاً لقادة {G} قرب {L} وقتلت القيادي المطلوب .",
     ["AIRSTRIKE", "ASSASSINATION"]),
    ("شهدت {L} اشتباكات بين {G} و{G2} دون تدخل من {A} .", []),
    ("أطلق {A} حملة تمشيط واسعة في ريف {L} الشرقي بحثاً عن خلايا {G} .", ["RAID"]),
]
FILLER = ["وأضاف المصدر أن الوضع الأمني مستقر نسبياً .", "ولم تصدر أي تعليقات رسمية حتى الآن .",
          "وتشهد المنطقة توتراً منذ أشهر .", "وأكد شهود عيان سماع أصوات انفجارات .",
          "ويأتي ذلك في إطار جهود مكافحة الإرهاب ."]


def _fill(template: str, rng: random.Random) -> tuple[str, list[dict]]:
    text, spans, i = "", [], 0
    picks = {"A": AGENCIES, "A2": AGENCIES, "G": GROUPS, "G2": GROUPS, "L": PLACES}
    labels = {"A": "AGENCY", "A2": "AGENCY", "G": "ARMED_GROUP", "G2": "ARMED_GROUP", "L": "LOCATION"}
    while i < len(template):
        j = template.find("{", i)
        if j < 0:
            text += template[i:]
            break
        k = template.index("}", j)
        text += template[i:j]
        key = template[j + 1:k]
        name = rng.choice(picks[key])
        spans.append({"start": len(text), "end": len(text) + len(name), "label": labels[key]})
        text += name
        i = k + 1
    return text, spans


def make_article(index: int, rng: random.Random, long: bool = False) -> dict:
    template, ops = rng.choice(TEMPLATES)
    lead, spans = _fill(template, rng)
    text = lead
    for _ in range(rng.randint(1, 3) + (40 if long else 0)):
        if rng.random() < 0.3:
            sentence, more = _fill(rng.choice(TEMPLATES)[0], rng)
            spans += [{**s, "start": s["start"] + len(text) + 1, "end": s["end"] + len(text) + 1} for s in more]
            text += " " + sentence
        else:
            text += " " + rng.choice(FILLER)
    record = {"id": f"tiny-{index:03d}", "text": text, "entities": spans, "operations": ops}
    kind = index % 10
    if kind == 7:
        del record["entities"]  # operations only
    elif kind == 8:
        del record["operations"]  # entities only
    return record


def main(out_dir: Path = Path("tests/fixtures")) -> None:
    rng = random.Random(7)
    out_dir.mkdir(parents=True, exist_ok=True)
    train = [make_article(i, rng, long=(i % 25 == 3)) for i in range(80)]
    dev = [make_article(100 + i, rng, long=(i == 5)) for i in range(24)]
    for name, rows in (("tiny_train.jsonl", train), ("tiny_dev.jsonl", dev)):
        with open(out_dir / name, "w", encoding="utf-8") as f:
            for row in rows:
                f.write(json.dumps(row, ensure_ascii=False) + "\n")
    make_tiny_encoder(out_dir / "tiny-encoder", [r["text"] for r in train + dev])


def make_tiny_encoder(out: Path, texts: list[str], kind: str = "wordpiece") -> None:
    """A tiny BERT config + a fast tokenizer trained on `texts` (WordPiece like CAMeLBERT, or Unigram like XLM-R)."""
    from tokenizers import Tokenizer, decoders, models, normalizers, pre_tokenizers, trainers
    from transformers import BertConfig, PreTrainedTokenizerFast

    out.mkdir(parents=True, exist_ok=True)
    specials = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
    if kind == "wordpiece":
        tok = Tokenizer(models.WordPiece(unk_token="[UNK]"))
        tok.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
        tok.decoder = decoders.WordPiece()
        trainer = trainers.WordPieceTrainer(vocab_size=600, special_tokens=specials)
    else:
        tok = Tokenizer(models.Unigram())
        tok.pre_tokenizer = pre_tokenizers.Metaspace()
        tok.decoder = decoders.Metaspace()
        trainer = trainers.UnigramTrainer(vocab_size=600, special_tokens=specials, unk_token="[UNK]")
    tok.normalizer = normalizers.NFC()
    tok.train_from_iterator(texts, trainer)
    from tokenizers.processors import TemplateProcessing
    cls, sep = tok.token_to_id("[CLS]"), tok.token_to_id("[SEP]")
    tok.post_processor = TemplateProcessing(single="[CLS] $A [SEP]", pair="[CLS] $A [SEP] $B [SEP]",
                                            special_tokens=[("[CLS]", cls), ("[SEP]", sep)])
    fast = PreTrainedTokenizerFast(tokenizer_object=tok, unk_token="[UNK]", pad_token="[PAD]", cls_token="[CLS]",
                                   sep_token="[SEP]", mask_token="[MASK]", model_max_length=512)
    fast.save_pretrained(out)
    BertConfig(vocab_size=tok.get_vocab_size(), hidden_size=32, num_hidden_layers=2, num_attention_heads=2,
               intermediate_size=64, max_position_embeddings=512).save_pretrained(out)


if __name__ == "__main__":
    main()
