"""Train the reader on a machine with a GPU that has PyTorch and transformers but neither this project's data
nor its bundled models: a kit goes there, the trained weights come back.

Here (the prepared examples, the base model's frozen word embeddings in float16 and its tokenizer):

    python bench/train_reader.py --write-rows runs/kit/rows.jsonl.xz [data options, as for training]
    python bench/gpu_kit.py pack runs/kit

There, from a copy of this repository with the kit in it:

    bash bench/gpu_reader.sh runs/kit OUT [MINUTES]

(it runs `base`, then `bench/train_reader.py --rows … --device cuda`, then `parts`), and back here:

    python bench/gpu_kit.py collect OUT runs/reader-gpu        # runs/reader-gpu/hf, a full reader folder
    qa eval runs/news-qa/fold-0 --reader runs/reader-gpu/hf --json
    python bench/ship_reader.py runs/reader-gpu/hf

The weights travel as the shipped reader does, every tensor but the word embeddings in float16, cut into
parts of at most --part-mb (for transfers that limit a file's size); `collect` joins them and puts the
bundled model's own float32 word embeddings back, so the folder ships as a reader trained here would.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from qa.answer.reader_model import SHIPPED_READER  # noqa: E402
from qa.encoders.models import bundled_model_path  # noqa: E402
from qa.encoders.shipped import TOKENIZER_FILES, assemble_layers  # noqa: E402

CARD = "reader.json"
EMBEDDINGS = "embeddings.word_embeddings.weight"
WEIGHTS = "weights.safetensors"


def pack(kit: Path) -> dict[str, int]:
    """Write KIT/base: the bundled model's tokenizer files and config, and its word embeddings in float16 (the
    only base tensor a reader takes unchanged). Returns the kit's file sizes."""
    import numpy as np
    from safetensors.numpy import load_file, save_file

    source = bundled_model_path()
    base = kit / "base"
    base.mkdir(parents=True, exist_ok=True)
    for name in (*TOKENIZER_FILES, "config.json"):
        shutil.copy(source / name, base / name)
    embeddings = load_file(str(source / "model.safetensors"))[EMBEDDINGS]
    save_file({EMBEDDINGS: embeddings.astype(np.float16)}, str(base / "model.safetensors"))
    return {str(p.relative_to(kit)): p.stat().st_size for p in sorted(kit.rglob("*")) if p.is_file()}


def base(kit: Path, target: Path, reader: Path = SHIPPED_READER) -> Path:
    """A full Hugging Face reader folder to train on from: `reader`'s weights with the kit's word embeddings."""
    return assemble_layers(reader, CARD, target, TOKENIZER_FILES, base=kit / "base")


def parts(hf: Path, out: Path, part_mb: float) -> list[Path]:
    """The trained folder's weights but the word embeddings, float16, in parts of at most `part_mb` MB, with its
    config and the card naming the tensor left out."""
    import numpy as np
    from safetensors.numpy import load_file, save_file

    config = json.loads((hf / "config.json").read_text())
    prefix = f"{config.get('model_type', 'bert')}."
    tensors = load_file(str(hf / "model.safetensors"))
    kept = {k: v.astype(np.float16) for k, v in tensors.items() if k != prefix + EMBEDDINGS}
    out.mkdir(parents=True, exist_ok=True)
    whole = out / WEIGHTS
    save_file(kept, str(whole))
    data, size = whole.read_bytes(), int(part_mb * 1e6)
    whole.unlink()
    written = []
    for n, at in enumerate(range(0, len(data), size)):
        part = out / f"{WEIGHTS}.{n:03d}"
        part.write_bytes(data[at : at + size])
        written.append(part)
    shutil.copy(hf / "config.json", out / "config.json")
    (out / CARD).write_text(json.dumps({"from_base": {prefix + EMBEDDINGS: EMBEDDINGS}}, indent=2) + "\n")
    return written


def collect(out: Path, target: Path) -> Path:
    """Join the parts in `out` into TARGET/weights (a folder as the package ships a reader) and put together
    TARGET/hf with the bundled model's word embeddings; returns TARGET/hf."""
    pieces = sorted(out.glob(f"{WEIGHTS}.[0-9][0-9][0-9]"))
    if not pieces:
        raise SystemExit(f"no {WEIGHTS}.NNN parts in {out}: give the folder `parts` wrote")
    shipped = target / "weights"
    shipped.mkdir(parents=True, exist_ok=True)
    with open(shipped / WEIGHTS, "wb") as f:
        for piece in pieces:
            f.write(piece.read_bytes())
    for name in ("config.json", CARD):
        shutil.copy(out / name, shipped / name)
    return assemble_layers(shipped, CARD, target / "hf")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="step", required=True)
    p = sub.add_parser("pack", help="write the base model's part of a kit (KIT/base)")
    p.add_argument("kit", type=Path)
    p = sub.add_parser("base", help="put together the reader to train on from, with the kit's word embeddings")
    p.add_argument("kit", type=Path)
    p.add_argument("target", type=Path)
    p.add_argument("--reader", type=Path, default=SHIPPED_READER, help="a folder as the package ships a reader")
    p = sub.add_parser("parts", help="write a trained reader's weights in parts, to carry back")
    p.add_argument("hf", type=Path, help="the trained Hugging Face folder (train_reader.py's OUT/hf)")
    p.add_argument("out", type=Path)
    p.add_argument("--part-mb", type=float, default=15.0, help="largest part, in MB")
    p = sub.add_parser("collect", help="join the parts into a full reader folder, TARGET/hf")
    p.add_argument("out", type=Path, help="the folder `parts` wrote")
    p.add_argument("target", type=Path)
    args = ap.parse_args(argv)
    if args.step == "pack":
        sizes = pack(args.kit)
        for name, size in sizes.items():
            print(f"{name:32} {size / 1e6:8.2f} MB")
        print(f"{'kit in all':32} {sum(sizes.values()) / 1e6:8.2f} MB")
    elif args.step == "base":
        print(base(args.kit, args.target, args.reader))
    elif args.step == "parts":
        for part in parts(args.hf, args.out, args.part_mb):
            print(f"{part}  {part.stat().st_size / 1e6:.2f} MB")
    else:
        print(collect(args.out, args.target))
    return 0


if __name__ == "__main__":
    sys.exit(main())
