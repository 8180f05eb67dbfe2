"""Shared fixtures: the repo root, the ../shared/data folder (tests that need it skip without it), a tiny model."""
import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SOURCES = Path(os.environ.get("RASD_SOURCES", ROOT.parent / "shared" / "data"))
FIXTURES = ROOT / "tests" / "fixtures"

needs_sources = pytest.mark.skipif(not (SOURCES / "pool").is_dir(),
                                   reason=f"public sources not found at {SOURCES} (set RASD_SOURCES); "
                                          "a fresh clone has no ../shared")


@pytest.fixture(scope="session")
def tiny_model(tmp_path_factory) -> Path:
    """Train the tiny recipe once per session (about 10 s on CPU) and return its model folder."""
    from rasd.config import load_config
    from rasd.training import train
    out = tmp_path_factory.mktemp("tiny-model")
    config = load_config(ROOT / "train" / "tiny.toml", [f'train.output_dir="{out}"'])
    config.model.encoder = str(ROOT / config.model.encoder)
    config.data.train = [str(ROOT / p) for p in config.data.train]
    config.data.dev = [str(ROOT / p) for p in config.data.dev]
    train(config, progress=False)
    return out
