"""Put a trained reader into the package: only the weights training changed, in float16.

    python bench/ship_reader.py runs/reader/hf            # writes qa/models/reader/

The word embeddings were frozen during training, so they are left out and taken from the bundled
all-MiniLM-L6-v2 package when the reader is first used (qa.answer.reader_model.assemble_shipped); this
checks that they really are the base model's before leaving them out.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import shutil
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from qa.answer.reader_model import SHIPPED_READER  # noqa: E402
from qa.encoders.models import bundled_model_path  # noqa: E402

# Reader tensor name -> base model tensor name, for the tensors training left as they were.
FROM_BASE = {"bert.embeddings.word_embeddings.weight": "embeddings.word_embeddings.weight"}


def ship_layers(
    folder: Path,
    target: Path,
    card: str,
    from_base: dict[str, str],
    extra: dict | None = None,
    check_base: bool = True,
) -> dict[str, int]:
    """Write a trained model's changed weights (float16, without the `from_base` tensors, which must equal the
    bundled base model's: checked unless `check_base` is False, where the bundled model is not at hand) and
    config into `target`, with a `card` JSON recording them; returns file sizes."""
    from safetensors.numpy import load_file, save_file

    tensors = load_file(str(folder / "model.safetensors"))
    base = load_file(str(bundled_model_path() / "model.safetensors")) if check_base else {}
    for name, base_name in from_base.items() if check_base else ():
        if not np.array_equal(tensors[name], base[base_name]):
            raise SystemExit(f"{name} differs from the base model's {base_name}: it cannot be left out")
    kept = {k: v.astype(np.float16) for k, v in tensors.items() if k not in from_base}
    target.mkdir(parents=True, exist_ok=True)
    save_file(kept, str(target / "weights.safetensors"))
    shutil.copy(folder / "config.json", target / "config.json")
    digest = hashlib.sha256((target / "weights.safetensors").read_bytes()).hexdigest()
    meta = {"from_base": from_base, "weights_sha256": digest, **(extra or {})}
    (target / card).write_text(json.dumps(meta, indent=2) + "\n")
    return {p.name: p.stat().st_size for p in sorted(target.iterdir()) if p.is_file()}


def ship(hf_folder: Path, target: Path = SHIPPED_READER) -> dict[str, int]:
    """Write the shipped reader from a Hugging Face question-answering folder; returns file sizes."""
    return ship_layers(hf_folder, target, "reader.json", FROM_BASE)


def print_sizes(sizes: dict[str, int]) -> None:
    """The shipped files and their sizes, one a line."""
    for name, size in sizes.items():
        print(f"{name:24} {size / 1e6:8.2f} MB")


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("folder", type=Path, help="the trained Hugging Face folder (train_reader.py's OUT/hf)")
    p.add_argument("--target", type=Path, default=SHIPPED_READER)
    args = p.parse_args(argv)
    print_sizes(ship(args.folder, args.target))
    return 0


if __name__ == "__main__":
    sys.exit(main())
