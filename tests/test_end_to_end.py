"""End to end on the tiny recipe: train -> save -> load -> predict -> evaluate, resume, bad input, hub cache, DDP."""
import json
import os
import shutil
import subprocess
import sys

import pytest

from rasd.cli import main
from rasd.inference import Predictor

from conftest import FIXTURES, ROOT


def _lines(path):
    return [json.loads(l) for l in open(path, encoding="utf-8") if l.strip()]


def test_help_lists_every_subcommand(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["--help"])
    assert exit_info.value.code == 0
    out = capsys.readouterr().out
    for command in ("train", "evaluate", "predict", "validate", "convert", "data"):
        assert command in out
    result = subprocess.run([sys.executable, "-m", "rasd", "--help"], capture_output=True, text=True)
    assert result.returncode == 0 and "predict" in result.stdout


def test_model_folder_is_self_describing(tiny_model):
    for name in ("config.json", "model.safetensors", "tokenizer.json", "resolved_config.toml", "metrics.json",
                 "README.md"):
        assert (tiny_model / name).exists(), name
    config = json.loads((tiny_model / "config.json").read_text())
    assert config["model_type"] == "rasd_joint"
    assert config["id2label"]["1"] == "B-ARMED_GROUP" and config["operation_labels"][0] == "RAID"
    assert len(config["operation_thresholds"]) == 4 and config["max_length_tokens"] == 64
    metrics = json.loads((tiny_model / "metrics.json").read_text())
    assert 0.0 <= metrics["dev"]["entities"]["strict"]["micro"]["f1"] <= 1.0
    assert not (tiny_model / "best").exists() and (tiny_model / "checkpoint").exists()


def test_training_learns_the_fixture(tiny_model):
    """The synthetic fixture is easy: a trained tiny model must beat an untrained one clearly on dev."""
    metrics = json.loads((tiny_model / "metrics.json").read_text())
    assert metrics["dev"]["entities"]["strict"]["micro"]["f1"] > 0.3
    assert metrics["dev"]["operations"]["macro"]["f1"] > 0.3


def test_predict_and_evaluate_through_the_cli(tiny_model, tmp_path, capsys, monkeypatch):
    txt_dir = tmp_path / "txt"
    txt_dir.mkdir()
    (txt_dir / "one.txt").write_text("شنت طائرات التحالف الدولي غارة جوية على مواقع داعش في الرقة .", encoding="utf-8")
    out = tmp_path / "pred.jsonl"
    assert main(["predict", "--model", str(tiny_model), str(FIXTURES / "tiny_dev.jsonl"), str(txt_dir), "-o", str(out),
                 "--batch-size", "4", "--no-progress"]) == 0
    rows = _lines(out)
    assert len(rows) == 25 and rows[-1]["id"].endswith("one.txt")
    for row in rows:
        for e in row["entities"]:
            assert row["text"][e["start"]:e["end"]] == e["text"] and 0 <= e["score"] <= 1
        assert set(row["operations"]) <= set(row["operation_scores"])
    report_dir = tmp_path / "report"
    assert main(["evaluate", "--model", str(tiny_model), "--data", str(FIXTURES / "tiny_dev.jsonl"),
                 "--out", str(report_dir)]) == 0
    report = json.loads((report_dir / "report.json").read_text())
    assert set(report["entities"]["strict"]) >= {"ARMED_GROUP", "AGENCY", "LOCATION", "micro", "macro"}
    assert "lenient" in report["entities"] and report["operations"]["articles"] == 22
    for name in ("report.md", "confusion.png", "errors.jsonl"):
        assert (report_dir / name).exists()
    # the stored thresholds decide: the evaluated predictions equal a fresh Predictor's
    predictor = Predictor.from_pretrained(str(tiny_model), device="cpu")
    texts = [r["text"] for r in _lines(FIXTURES / "tiny_dev.jsonl")]
    assert [p["operations"] for p in predictor.predict(texts)] == [r["operations"] for r in rows[:24]]
    # stdin, plain text: one article per line
    import io
    monkeypatch.setattr("sys.stdin", io.StringIO("اعتقلت الشرطة مطلوبا في كركوك\n\nخبر ثان\n"))
    capsys.readouterr()
    assert main(["predict", "--model", str(tiny_model), "-", "--no-text"]) == 0
    printed = [json.loads(l) for l in capsys.readouterr().out.splitlines()]
    assert [p["id"] for p in printed] == ["<stdin>:1", "<stdin>:3"] and "text" not in printed[0]


def test_predict_skips_bad_records_and_resumes(tiny_model, tmp_path, capsys):
    src = tmp_path / "in.jsonl"
    src.write_text("\n".join([json.dumps({"id": "a", "text": "قصف في الرقة"}, ensure_ascii=False), "{broken",
                              json.dumps({"id": "b"}), json.dumps({"id": "c", "text": 5}),
                              json.dumps({"id": "d", "text": ""}),
                              json.dumps({"id": "e", "text": "اعتقال في بغداد"}, ensure_ascii=False)]) + "\n")
    out = tmp_path / "out.jsonl"
    assert main(["predict", "--model", str(tiny_model), str(src), str(tmp_path / "missing.jsonl"), "-o", str(out),
                 "--no-progress"]) == 0
    err = capsys.readouterr().err
    assert f"{src}:2: field '<json>'" in err and f"{src}:3: field 'text'" in err and f"{src}:4: field 'text'" in err
    assert "missing.jsonl: cannot read" in err and "4 bad input(s)" in err
    assert [r["id"] for r in _lines(out)] == ["a", "d", "e"]
    # a crash mid-line: resume drops the cut line and redoes only what is missing
    data = out.read_text(encoding="utf-8").splitlines(keepends=True)
    out.write_text(data[0] + data[1][:10], encoding="utf-8")
    assert main(["predict", "--model", str(tiny_model), str(src), "-o", str(out), "--resume", "--no-progress"]) == 0
    assert [r["id"] for r in _lines(out)] == ["a", "d", "e"]
    assert "1 already done" in capsys.readouterr().err


def test_training_resumes_from_checkpoint(tmp_path):
    common = ["--config", str(ROOT / "train" / "tiny.toml"), "--no-progress",
              "--set", f'model.encoder="{FIXTURES / "tiny-encoder"}"',
              "--set", f'data.train=["{FIXTURES / "tiny_train.jsonl"}"]',
              "--set", f'data.dev=["{FIXTURES / "tiny_dev.jsonl"}"]',
              "--set", f'train.output_dir="{tmp_path}"', "--set", "train.eval_every_steps=1000",
              "--set", "train.checkpoint_every_steps=5"]
    assert main(["train", *common, "--set", "train.max_steps=10"]) == 0
    state = json.loads((tmp_path / "checkpoint" / "trainer_state.json").read_text())
    assert state["step"] == 10
    assert main(["train", *common, "--set", "train.max_steps=16", "--resume"]) == 0
    state = json.loads((tmp_path / "checkpoint" / "trainer_state.json").read_text())
    assert state["step"] == 16 and state["batches_done_in_epoch"] == 6  # 10 batches per epoch: epoch 1, batch 6
    assert json.loads((tmp_path / "metrics.json").read_text())["steps"] == 16
    assert main(["train", *common, "--set", f'train.output_dir="{tmp_path / "none"}"', "--resume"]) == 2


def test_hub_cache_layout_loads_by_id_offline(tiny_model, tmp_path, monkeypatch):
    snapshot = tmp_path / "hub" / "models--conflict-lab--rasd-tiny" / "snapshots" / "0123abcd"
    shutil.copytree(tiny_model, snapshot, ignore=shutil.ignore_patterns("checkpoint", "logs"))
    refs = tmp_path / "hub" / "models--conflict-lab--rasd-tiny" / "refs"
    refs.mkdir()
    (refs / "main").write_text("0123abcd")
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "hub"))
    import huggingface_hub.constants as constants
    monkeypatch.setattr(constants, "HF_HUB_CACHE", str(tmp_path / "hub"))
    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", True)
    predictor = Predictor.from_pretrained("conflict-lab/rasd-tiny", device="cpu")
    assert predictor.predict(["قصف في الرقة"])[0]["operation_scores"]
    with pytest.raises(FileNotFoundError, match="local Hugging Face cache"):
        Predictor.from_pretrained("conflict-lab/not-there", device="cpu")


def test_validate_and_convert_commands(tmp_path, capsys):
    assert main(["validate", str(FIXTURES / "tiny_train.jsonl")]) == 0
    bad = tmp_path / "bad.jsonl"
    bad.write_text(json.dumps({"id": "x", "text": "ab", "entities": [{"start": 0, "end": 5, "label": "LOCATION"}]}) + "\n")
    assert main(["validate", str(bad)]) == 1
    assert f"{bad}:1: field 'entities[0]'" in capsys.readouterr().err
    conll = tmp_path / "x.conll"
    assert main(["convert", str(FIXTURES / "tiny_dev.jsonl"), str(conll)]) == 0
    assert main(["convert", str(conll), str(tmp_path / "back.jsonl")]) == 0
    assert len(_lines(tmp_path / "back.jsonl")) == 24


@pytest.mark.skipif(shutil.which("accelerate") is None, reason="accelerate's launcher is not on PATH")
def test_two_process_training_under_accelerate_launch(tmp_path):
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    cmd = ["accelerate", "launch", "--cpu", "--num_processes", "2", "--num_machines", "1", "--mixed_precision", "no",
           "--dynamo_backend", "no", "-m", "rasd", "train", "--config", str(ROOT / "train" / "tiny.toml"),
           "--no-progress", "--set", f'model.encoder="{FIXTURES / "tiny-encoder"}"',
           "--set", f'data.train=["{FIXTURES / "tiny_train.jsonl"}"]',
           "--set", f'data.dev=["{FIXTURES / "tiny_dev.jsonl"}"]',
           "--set", f'train.output_dir="{tmp_path}"', "--set", "train.max_steps=6", "--set", "train.eval_every_steps=3"]
    result = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    assert (tmp_path / "model.safetensors").exists() and (tmp_path / "metrics.json").exists()
    state = json.loads((tmp_path / "checkpoint" / "trainer_state.json").read_text())
    assert state["step"] == 6


def test_inputs_stream_jsonl_from_stdin_and_report_bad_bytes(tmp_path):
    import io
    from rasd.inference import InputError, iter_inputs
    stdin = io.StringIO("\n" + json.dumps({"id": "x", "text": "نص"}, ensure_ascii=False) + "\n{bad\n")
    items = list(iter_inputs(["-"], stdin=stdin))
    assert items[0] == ("x", "نص") and isinstance(items[1], InputError) and "<stdin>:3" in str(items[1])
    bad = tmp_path / "bytes.jsonl"
    bad.write_bytes(json.dumps({"id": "ok", "text": "a"}).encode() + b"\n\xff\xfe\n" +
                    json.dumps({"id": "after", "text": "b"}).encode() + b"\n")
    items = list(iter_inputs([str(bad)]))
    assert items[0] == ("ok", "a") and items[2] == ("after", "b")  # the bad line costs only itself
    assert isinstance(items[1], InputError) and f"{bad}:2: field '<encoding>': not UTF-8" in str(items[1])
