"""Config: defaults -> TOML -> --set; unknown keys and wrong types are errors naming their source."""
import pytest

from rasd.config import ConfigError, config_from_dict, config_to_toml, load_config


def test_layers_apply_in_order(tmp_path):
    path = tmp_path / "c.toml"
    path.write_text('[train]\nlearning_rate = 1e-4\nepochs = 2\n[data]\ntrain = ["a.jsonl"]\n')
    config = load_config(path, ["train.learning_rate=3e-5", "model.encoder=some/folder", "model.fold_ya=false"])
    assert config.train.learning_rate == 3e-5 and config.train.epochs == 2.0
    assert config.data.train == ["a.jsonl"] and config.model.encoder == "some/folder" and not config.model.fold_ya
    assert config.train.seed == 13  # default untouched


@pytest.mark.parametrize("text, message", [
    ("[train]\nlearning_rat = 1\n", "unknown key 'train.learning_rat'"),
    ("[trian]\nx = 1\n", r"unknown section \[trian\]"),
    ('[train]\nseed = "13"\n', "expected an integer"),
    ("[model]\nfold_alef = 1\n", "expected true or false"),
    ('[data]\ntrain = "a.jsonl"\n', "expected a list"),
])
def test_bad_files_are_errors(tmp_path, text, message):
    path = tmp_path / "bad.toml"
    path.write_text(text)
    with pytest.raises(ConfigError, match=message) as err:
        load_config(path)
    assert str(path) in str(err.value)


def test_bad_override_names_it():
    with pytest.raises(ConfigError, match="--set train.seed=x"):
        load_config(None, ["train.seed=x"])
    with pytest.raises(ConfigError, match="section.key=value"):
        load_config(None, ["seed=3"])


def test_resolved_config_round_trips():
    import dataclasses
    import tomllib
    config = load_config(None, ['data.dev=["d.jsonl"]', "train.max_steps=7"])
    again = config_from_dict(tomllib.loads(config_to_toml(config)))
    assert dataclasses.asdict(again) == dataclasses.asdict(config)


def test_train_repeats_oversample_per_file(tmp_path):
    import json
    from rasd.training import load_split
    a, b = tmp_path / "a.jsonl", tmp_path / "b.jsonl"
    a.write_text(json.dumps({"id": "a", "text": "x", "operations": []}) + "\n")
    b.write_text("".join(json.dumps({"id": f"b{i}", "text": "y", "entities": []}) + "\n" for i in range(5)))
    assert [r["id"] for r in load_split([str(a), str(b)], cap=2, repeats=[3, 1])] == ["a", "a", "a", "b0", "b1"]
    with pytest.raises(ValueError, match="train_repeats has 1 entries for 2"):
        load_split([str(a), str(b)], repeats=[2])
