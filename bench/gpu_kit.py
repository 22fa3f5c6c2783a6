"""Train the reader and the embedding model on a machine with a GPU that has PyTorch, transformers and
sentence-transformers but neither this project's data nor its bundled models: a kit goes there, the trained
weights come back.

Here, the kit (the prepared examples and pairs, and the base model; 43 MB):

    python bench/train_reader.py --write-rows runs/kit/rows.jsonl.xz [data options, as for training]
    python bench/train_encoder.py --both-sides --write-rows runs/kit/pairs.json.xz [data options]
    python bench/gpu_kit.py pack runs/kit --whole      # without --whole: the word embeddings alone (a reader's kit)

There, from a copy of this repository with the kit in it:

    bash bench/gpu_train.sh reader runs/kit OUT/reader 5    # the reader, from the shipped one
    bash bench/gpu_train.sh encoder runs/kit OUT/encoder 3  # the embedding model, both sides

Back here:

    python bench/gpu_kit.py collect OUT/reader runs/reader-gpu     # runs/reader-gpu/hf: qa eval --reader, ship_reader.py
    python bench/gpu_kit.py collect OUT/encoder runs/encoder-gpu   # runs/encoder-gpu/model: qa index build --model

The base model travels with its matrices in 8 bits a row, everything else in float16: a word embedding moves
by 0.7% of its length, and with its word embeddings so rounded the model's vectors of a Wikinews sample move
by under 0.0001 in cosine (the encoder's other matrices are only where its training starts). The trained
weights come back as the package ships them, every tensor but the word embeddings in float16, with the
config, in one archive cut into parts of at most --part-mb (for transfers that limit a file's size or
count); `collect` joins them and puts the bundled model's own float32 word embeddings back, so the result
ships as a model trained here would.
"""

from __future__ import annotations

import argparse
import io
import json
import shutil
import sys
import tarfile
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.ship_reader import ship_layers  # noqa: E402
from qa.answer.reader_model import SHIPPED_READER  # noqa: E402
from qa.encoders.models import bundled_model_path  # noqa: E402
from qa.encoders.shipped import SENTENCE_MODEL_FILES, TOKENIZER_FILES, assemble_layers  # noqa: E402

CARD = "layers.json"
EMBEDDINGS = "embeddings.word_embeddings.weight"
WEIGHTS = "weights.safetensors"
ARCHIVE = "model.tar"
PACKED = "packed.safetensors"
SCALE = ".scale"


def pack(kit: Path, whole: bool = False) -> dict[str, int]:
    """Write KIT/base: the bundled model's files and its word embeddings (with `whole`, every tensor), matrices
    in 8 bits a row with a float16 scale each, the rest in float16. Returns the kit's file sizes."""
    import numpy as np
    from safetensors.numpy import load_file, save_file

    source = bundled_model_path()
    base = kit / "base"
    base.mkdir(parents=True, exist_ok=True)
    for name in (*SENTENCE_MODEL_FILES, "config.json"):
        if (source / name).is_dir():
            shutil.copytree(source / name, base / name, dirs_exist_ok=True)
        elif (source / name).is_file():
            shutil.copy(source / name, base / name)
    packed = {}
    for name, tensor in load_file(str(source / "model.safetensors")).items():
        if not whole and name != EMBEDDINGS:
            continue
        if tensor.ndim == 2:
            scale = np.maximum(np.abs(tensor).max(axis=1, keepdims=True), 1e-12) / 127
            packed[name] = np.round(tensor / scale).astype(np.int8)
            packed[name + SCALE] = scale.astype(np.float16)
        else:
            packed[name] = tensor.astype(np.float16)
    save_file(packed, str(base / PACKED))
    return {str(p.relative_to(kit)): p.stat().st_size for p in sorted(kit.rglob("*")) if p.is_file()}


def unpack(kit: Path, target: Path) -> Path:
    """The kit's base model as a model folder in `target` (float32 tensors in model.safetensors)."""
    import numpy as np
    from safetensors.numpy import load_file, save_file

    packed = load_file(str(kit / "base" / PACKED))
    tensors = {
        name: (t.astype(np.float32) * packed[name + SCALE].astype(np.float32)) if name + SCALE in packed else t
        for name, t in packed.items()
        if not name.endswith(SCALE)
    }
    shutil.copytree(kit / "base", target, dirs_exist_ok=True, ignore=shutil.ignore_patterns(PACKED))
    save_file({n: t.astype(np.float32) for n, t in tensors.items()}, str(target / "model.safetensors"))
    return target


def reader_base(kit: Path, target: Path, reader: Path = SHIPPED_READER) -> Path:
    """A full Hugging Face reader folder to train on from: `reader`'s weights with the kit's word embeddings."""
    with tempfile.TemporaryDirectory() as scratch:
        return assemble_layers(reader, "reader.json", target, TOKENIZER_FILES, base=unpack(kit, Path(scratch)))


def parts(trained: Path, out: Path, part_mb: float) -> list[Path]:
    """A trained folder's weights but the word embeddings (float16), its config and a card naming the tensor left
    out, written as the package ships a model, then as one tar archive cut into parts of at most `part_mb` MB (a
    reader's Hugging Face folder or a sentence-transformers folder alike)."""
    from safetensors import safe_open

    with safe_open(str(trained / "model.safetensors"), "np") as f:
        left_out = next(name for name in f.keys() if name.endswith(EMBEDDINGS))
    extra = {"sentence_transformers": (trained / "modules.json").is_file()}
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as scratch:
        folder = Path(scratch)
        # The bundled model is not on the GPU machine: `collect` puts its word embeddings back here.
        ship_layers(trained, folder, CARD, {left_out: EMBEDDINGS}, extra, check_base=False)
        buffer = io.BytesIO()
        with tarfile.open(fileobj=buffer, mode="w") as tar:
            for name in (WEIGHTS, "config.json", CARD):
                tar.add(folder / name, arcname=name)
    data, size = buffer.getvalue(), int(part_mb * 1e6)
    written = []
    for n, at in enumerate(range(0, len(data), size)):
        part = out / f"{ARCHIVE}.{n:03d}"
        part.write_bytes(data[at : at + size])
        written.append(part)
    return written


def collect(out: Path, target: Path) -> Path:
    """Join the parts in `out` into TARGET/weights (a folder as the package ships a model) and put together the
    full model with the bundled model's word embeddings: TARGET/hf for a reader, TARGET/model for an embedding
    model. Returns that folder."""
    pieces = sorted(out.glob(f"{ARCHIVE}.[0-9][0-9][0-9]"))
    if not pieces:
        raise SystemExit(f"no {ARCHIVE}.NNN parts in {out}: give the folder `parts` wrote")
    shipped = target / "weights"
    shipped.mkdir(parents=True, exist_ok=True)
    with tarfile.open(fileobj=io.BytesIO(b"".join(p.read_bytes() for p in pieces))) as tar:
        tar.extractall(shipped, filter="data")
    if json.loads((shipped / CARD).read_text()).get("sentence_transformers"):
        return assemble_layers(shipped, CARD, target / "model", SENTENCE_MODEL_FILES)
    return assemble_layers(shipped, CARD, target / "hf")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="step", required=True)
    p = sub.add_parser("pack", help="write the base model's part of a kit (KIT/base)")
    p.add_argument("kit", type=Path)
    p.add_argument("--whole", action="store_true", help="every tensor of the base model (to train an encoder)")
    p = sub.add_parser("base", help="the model to train from: the reader (default) or the whole base model")
    p.add_argument("kit", type=Path)
    p.add_argument("target", type=Path)
    p.add_argument("--reader", type=Path, default=SHIPPED_READER, help="a folder as the package ships a reader")
    p.add_argument("--whole", action="store_true", help="the kit's whole base model, not a reader")
    p = sub.add_parser("parts", help="write a trained model's weights in parts, to carry back")
    p.add_argument("trained", type=Path, help="train_reader.py's OUT/hf or train_encoder.py's OUT/model")
    p.add_argument("out", type=Path)
    p.add_argument("--part-mb", type=float, default=15.0, help="largest part, in MB")
    p = sub.add_parser("collect", help="join the parts into a full model folder under TARGET")
    p.add_argument("out", type=Path, help="the folder `parts` wrote")
    p.add_argument("target", type=Path)
    args = ap.parse_args(argv)
    if args.step == "pack":
        sizes = pack(args.kit, args.whole)
        for name, size in sizes.items():
            print(f"{name:40} {size / 1e6:8.2f} MB")
        print(f"{'kit in all':40} {sum(sizes.values()) / 1e6:8.2f} MB")
    elif args.step == "base":
        print(unpack(args.kit, args.target) if args.whole else reader_base(args.kit, args.target, args.reader))
    elif args.step == "parts":
        for part in parts(args.trained, args.out, args.part_mb):
            print(f"{part}  {part.stat().st_size / 1e6:.2f} MB")
    else:
        print(collect(args.out, args.target))
    return 0


if __name__ == "__main__":
    sys.exit(main())
