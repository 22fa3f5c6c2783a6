"""Put a trained question encoder into the package: only the weights training changed, in float16.

    python bench/ship_encoder.py runs/encoder/model          # writes qa/models/question-encoder/

The word embeddings were frozen during training (bench/train_encoder.py), so they are left out and taken
from the bundled all-MiniLM-L6-v2 package when the encoder is first used (qa.encoders.question_model); this
checks that they really are the base model's before leaving them out. The model card (README.md) is
written by hand beside it.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.ship_reader import ship_command, ship_layers  # noqa: E402
from qa.encoders.models import DEFAULT_MODEL  # noqa: E402
from qa.encoders.question_model import CARD, SHIPPED_QUESTION_ENCODER  # noqa: E402

FROM_BASE = {"embeddings.word_embeddings.weight": "embeddings.word_embeddings.weight"}


def ship(folder: Path, target: Path = SHIPPED_QUESTION_ENCODER) -> dict[str, int]:
    """Write the shipped question encoder from a sentence-transformers folder; returns file sizes."""
    return ship_layers(folder, target, CARD, FROM_BASE, {"passages": DEFAULT_MODEL})


def main(argv: list[str] | None = None) -> int:
    trained = "the trained sentence-transformers folder (train_encoder.py's OUT/model)"
    return ship_command(argv, __doc__, ship, SHIPPED_QUESTION_ENCODER, trained)


if __name__ == "__main__":
    sys.exit(main())
