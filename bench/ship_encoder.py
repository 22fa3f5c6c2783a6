"""Put a trained encoder into the package: only the weights training changed, in float16.

    python bench/ship_encoder.py runs/encoder/model                          # qa/models/question-encoder/
    python bench/ship_encoder.py runs/encoder-gpu/model --both-sides         # qa/models/encoder/

A question encoder (train_encoder.py's default) embeds questions beside the bundled model's passages
(qa.encoders.question_model); an encoder trained on both sides (--both-sides) becomes the model indexes are
built with by default (qa.encoders.model_choice), and indexes built before keep their own. The word
embeddings were frozen during training, so they are left out and taken from the bundled all-MiniLM-L6-v2
package when the encoder is first used; this checks that they really are the base model's before leaving
them out. The model card (README.md) is written by hand beside it.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.ship_reader import print_sizes, ship_layers  # noqa: E402
from qa.encoders import model_choice, question_model  # noqa: E402
from qa.encoders.models import DEFAULT_MODEL  # noqa: E402

FROM_BASE = {"embeddings.word_embeddings.weight": "embeddings.word_embeddings.weight"}


def ship(folder: Path, target: Path = question_model.SHIPPED_QUESTION_ENCODER) -> dict[str, int]:
    """Write the shipped question encoder from a sentence-transformers folder; returns file sizes."""
    return ship_layers(folder, target, question_model.CARD, FROM_BASE, {"passages": DEFAULT_MODEL})


def ship_both_sides(folder: Path, target: Path = model_choice.SHIPPED_ENCODER) -> dict[str, int]:
    """Write the shipped encoder of both sides from a sentence-transformers folder; returns file sizes."""
    return ship_layers(folder, target, model_choice.CARD, FROM_BASE)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("folder", type=Path, help="the trained sentence-transformers folder (train_encoder.py's OUT/model)")
    p.add_argument("--both-sides", action="store_true", help="a model trained on both sides: the default encoder")
    p.add_argument("--target", type=Path, default=None, help="where to write (default: the package's folder)")
    args = p.parse_args(argv)
    write = ship_both_sides if args.both_sides else ship
    print_sizes(write(args.folder, args.target) if args.target else write(args.folder))
    return 0


if __name__ == "__main__":
    sys.exit(main())
