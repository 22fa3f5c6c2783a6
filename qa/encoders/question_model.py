"""Which model embeds questions: the package's question encoder for indexes of the bundled model, else the
index's own model.

The question encoder is all-MiniLM-L6-v2 trained further on question-to-passage pairs with the passage side
frozen (bench/train_encoder.py): passages, and so every index built with the bundled model, keep the
vectors they have, and only questions are embedded differently. `$QA_QUESTION_MODEL` or the
`question_model` argument chooses otherwise: `index` (the index's own model) or a sentence-transformers folder.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from qa.encoders.model_choice import resolve_model
from qa.encoders.models import DEFAULT_MODEL, ModelRef
from qa.encoders.shipped import SENTENCE_MODEL_FILES, assembled, shipped_digest
from qa.errors import ModelError

SHIPPED_QUESTION_ENCODER = Path(__file__).resolve().parents[1] / "models" / "question-encoder"
QUESTION_ENCODER = "qa-news-question-encoder"
CARD = "encoder.json"
SAME_AS_INDEX = "index"


def shipped_question_encoder() -> ModelRef | None:
    """The package's question encoder, put together in the cache on first use; None when not shipped."""
    if not (SHIPPED_QUESTION_ENCODER / CARD).is_file():
        return None
    card = json.loads((SHIPPED_QUESTION_ENCODER / CARD).read_text())
    if card.get("passages") != DEFAULT_MODEL:
        raise ModelError(f"{SHIPPED_QUESTION_ENCODER / CARD} pairs with {card.get('passages')}, not {DEFAULT_MODEL}")
    digest = shipped_digest(SHIPPED_QUESTION_ENCODER, CARD)
    return ModelRef(
        f"{QUESTION_ENCODER}@{digest}",
        assembled(SHIPPED_QUESTION_ENCODER, CARD, QUESTION_ENCODER, SENTENCE_MODEL_FILES),
    )


def question_model(index_model: ModelRef, choice: str | None = None) -> ModelRef:
    """The model that embeds questions for an index whose passages `index_model` embedded.

    `choice` (else $QA_QUESTION_MODEL): None for the default, `index` for the index's own model, or a
    sentence-transformers folder (which must give vectors of the index's width)."""
    choice = choice if choice is not None else os.environ.get("QA_QUESTION_MODEL") or None
    if choice == SAME_AS_INDEX:
        return index_model
    if choice is not None:
        return resolve_model(choice)
    if index_model.id == DEFAULT_MODEL:
        return shipped_question_encoder() or index_model
    return index_model
