"""Typed run configuration: dataclass defaults, then a TOML file, then `--set section.key=value` overrides.

Unknown sections or keys and values of the wrong type are errors that name the source (file or `--set`).
The resolved configuration is written as TOML into every output folder (`resolved_config.toml`).
"""
from __future__ import annotations

import dataclasses
import tomllib
import typing
from dataclasses import dataclass, field
from pathlib import Path


@dataclass
class ModelSection:
    encoder: str = "models/base/me5s-ar"  # a local encoder folder, or a hub id resolved from the local HF cache
    init: str = "pretrained"  # "pretrained": encoder weights from `encoder`; "random": its config only (tests)
    max_length_tokens: int = 256  # encoder window, special tokens included
    stride_tokens: int = 64  # tokens shared by consecutive windows of a long article
    dropout: float = 0.1
    fold_alef: bool = True
    fold_ya: bool = True
    fold_ta_marbuta: bool = False


@dataclass
class DataSection:
    train: list[str] = field(default_factory=list)  # spec JSONL files
    dev: list[str] = field(default_factory=list)
    train_repeats: list[int] = field(default_factory=list)  # per train file: times it is seen per epoch (oversampling)
    max_train_records: int = 0  # 0: all; a cap per file, for quick runs
    pack_sentences_words: int = 0  # >0: join entity-only sentences into pseudo-articles of about this many words


@dataclass
class TrainSection:
    output_dir: str = "models/run"
    seed: int = 13
    epochs: float = 3.0
    max_steps: int = 0  # optimizer steps; 0: from epochs
    batch_size_articles: int = 8  # per process, before accumulation
    grad_accum_steps: int = 1
    learning_rate: float = 5e-5
    head_learning_rate: float = 1e-3  # the fresh heads learn faster than the pretrained encoder
    weight_decay: float = 0.01
    warmup_ratio: float = 0.1
    max_grad_norm: float = 1.0
    mixed_precision: str = "auto"  # auto: bf16 on a GPU that has it, else fp16 on GPU, none on CPU
    operations_loss_weight: float = 1.0
    refit_operations_head_steps: int = 0  # >0: after training, refit the operations head on frozen article vectors
    refit_weight_decay: float = 0.05
    eval_every_steps: int = 200
    checkpoint_every_steps: int = 200
    log_every_steps: int = 20
    select_entity_weight: float = 0.5  # best checkpoint: w * strict entity micro-F1 + (1 - w) * operations macro-F1
    eval_batch_size_articles: int = 16
    num_threads: int = 0  # torch CPU threads; 0: torch's default


@dataclass
class RunConfig:
    model: ModelSection = field(default_factory=ModelSection)
    data: DataSection = field(default_factory=DataSection)
    train: TrainSection = field(default_factory=TrainSection)


class ConfigError(ValueError):
    pass


def _coerce(value, expected, where: str):
    """Check `value` against the dataclass annotation `expected`; ints are accepted where floats are."""
    origin = typing.get_origin(expected)
    if origin is list:
        (item_type,) = typing.get_args(expected)
        if not isinstance(value, list):
            raise ConfigError(f"{where}: expected a list, got {value!r}")
        return [_coerce(v, item_type, where) for v in value]
    if expected is float and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    if expected is bool and not isinstance(value, bool):
        raise ConfigError(f"{where}: expected true or false, got {value!r}")
    if expected is int and (isinstance(value, bool) or not isinstance(value, int)):
        raise ConfigError(f"{where}: expected an integer, got {value!r}")
    if not isinstance(value, expected):
        raise ConfigError(f"{where}: expected {expected.__name__}, got {type(value).__name__} {value!r}")
    return value


def _apply(config: RunConfig, section: str, key: str, value, where: str) -> None:
    sections = {f.name: f for f in dataclasses.fields(RunConfig)}
    if section not in sections:
        raise ConfigError(f"{where}: unknown section [{section}]; known: {', '.join(sections)}")
    target = getattr(config, section)
    hints = typing.get_type_hints(type(target))
    if key not in hints:
        raise ConfigError(f"{where}: unknown key '{section}.{key}'; known: {', '.join(hints)}")
    setattr(target, key, _coerce(value, hints[key], f"{where}: {section}.{key}"))


def _parse_override(text: str):
    """`--set` values are TOML values (`3`, `1e-4`, `true`, `"x"`, `["a", "b"]`); a bare word is a string."""
    try:
        return tomllib.loads(f"v = {text}")["v"]
    except tomllib.TOMLDecodeError:
        return text


def load_config(path: str | Path | None = None, overrides: list[str] = ()) -> RunConfig:
    config = RunConfig()
    if path is not None:
        with open(path, "rb") as f:
            try:
                table = tomllib.load(f)
            except tomllib.TOMLDecodeError as err:
                raise ConfigError(f"{path}: not valid TOML: {err}") from err
        for section, values in table.items():
            if not isinstance(values, dict):
                raise ConfigError(f"{path}: '{section}' must be a [section], got a value")
            for key, value in values.items():
                _apply(config, section, key, value, str(path))
    for item in overrides:
        dotted, eq, raw = item.partition("=")
        section, dot, key = dotted.strip().partition(".")
        if not eq or not dot:
            raise ConfigError(f"--set {item!r}: expected section.key=value")
        _apply(config, section, key, _parse_override(raw.strip()), f"--set {item}")
    return config


def _toml_value(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, list):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    return '"' + str(value).replace("\\", "\\\\").replace('"', '\\"') + '"'


def config_to_toml(config: RunConfig) -> str:
    lines = []
    for section in dataclasses.fields(config):
        lines.append(f"[{section.name}]")
        for key, value in dataclasses.asdict(getattr(config, section.name)).items():
            lines.append(f"{key} = {_toml_value(value)}")
        lines.append("")
    return "\n".join(lines)


def config_from_dict(table: dict) -> RunConfig:
    """Rebuild a RunConfig from `dataclasses.asdict` output (as stored inside a model folder)."""
    config = RunConfig()
    for section, values in table.items():
        for key, value in values.items():
            _apply(config, section, key, value, "stored config")
    return config
