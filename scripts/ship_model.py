"""Copy a trained model folder into the shipped location as fp16 safetensors (replacing it in place).

    python scripts/ship_model.py models/rasd-ar-base-run models/rasd-ar-base

Keeps what a user needs: config (label maps, windows, thresholds), fp16 weights, tokenizer, resolved run config,
metrics.json and the model card. Checkpoints and logs stay behind.
"""
import shutil
import sys
from pathlib import Path

import torch

from rasd.modeling import RasdJointModel


def main(src: str, dst: str) -> None:
    src_path, dst_path = Path(src), Path(dst)
    tmp = dst_path.with_name(dst_path.name + ".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    model = RasdJointModel.from_pretrained(src_path).to(torch.float16)  # fp16 halves the folder
    model.save_pretrained(tmp)
    for name in ("tokenizer.json", "tokenizer_config.json", "special_tokens_map.json", "sentencepiece.bpe.model",
                 "vocab.txt", "resolved_config.toml", "metrics.json", "README.md"):
        if (src_path / name).exists():
            shutil.copy(src_path / name, tmp / name)
    shutil.rmtree(dst_path, ignore_errors=True)
    tmp.rename(dst_path)
    size = sum(p.stat().st_size for p in dst_path.iterdir()) / 2**20
    print(f"{dst_path}: {size:.1f} MiB")


if __name__ == "__main__":
    main(*sys.argv[1:3])
