"""Sentence-aware chunks under a token budget, with offsets into the document text."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from qa.encoders.models import ENCODING, token_encoding
from qa.ingest.text import split_sentences
from qa.records import Document

# all-MiniLM-L6-v2 reads 256 word pieces; cl100k tokens run ~1.2 word pieces on news text,
# and the title is prepended when embedding, so 160 leaves room (checked by a test).
DEFAULT_MAX_TOKENS = 160
DEFAULT_OVERLAP_SENTENCES = 1


@dataclass(frozen=True)
class ChunkerSettings:
    """How documents are cut; recorded in the index manifest."""

    max_tokens: int = DEFAULT_MAX_TOKENS
    overlap_sentences: int = DEFAULT_OVERLAP_SENTENCES
    encoding: str = ENCODING


@dataclass(frozen=True)
class ChunkSpan:
    """A chunk before it has an id: offsets into the document and its token count."""

    start: int
    end: int
    n_tokens: int


def count_tokens(text: str) -> int:
    """Tokens of `text` in the chunker's encoding."""
    return len(token_encoding().encode(text, disallowed_special=()))


def _split_long(text: str, start: int, end: int, budget: int) -> list[ChunkSpan]:
    """Cut one over-long sentence on token boundaries, each piece within `budget` tokens."""
    enc = token_encoding()
    tokens = enc.encode(text[start:end], disallowed_special=())
    pieces = []
    pos = start
    for i in range(0, len(tokens), budget):
        piece = enc.decode(tokens[i : i + budget])
        # Decoding can differ from the source for broken multi-byte runs; locate by length.
        piece_end = min(end, pos + len(piece)) if i + budget < len(tokens) else end
        if piece_end > pos:
            pieces.append(ChunkSpan(pos, piece_end, count_tokens(text[pos:piece_end])))
        pos = piece_end
    return pieces


def chunk_text(text: str, settings: ChunkerSettings = ChunkerSettings()) -> list[ChunkSpan]:
    """Runs of whole sentences of at most `max_tokens`, consecutive runs sharing `overlap_sentences`."""
    units: list[ChunkSpan] = []
    for start, end in split_sentences(text):
        n = count_tokens(text[start:end])
        if n > settings.max_tokens:
            units.extend(_split_long(text, start, end, settings.max_tokens))
        else:
            units.append(ChunkSpan(start, end, n))
    chunks: list[ChunkSpan] = []
    i = 0
    while i < len(units):
        # A joined run counts about its sentences' tokens plus one for each gap between them,
        # so the budget is checked on that sum and the exact count taken once per chunk.
        j = i + 1
        total = units[i].n_tokens
        while j < len(units) and total + units[j].n_tokens + 1 <= settings.max_tokens:
            total += units[j].n_tokens + 1
            j += 1
        start, end = units[i].start, units[j - 1].end
        chunks.append(ChunkSpan(start, end, count_tokens(text[start:end])))
        if j >= len(units):
            break
        # Step back by the overlap, but always move forward.
        i = max(i + 1, j - settings.overlap_sentences)
    return chunks


def chunk_document(
    doc: Document,
    settings: ChunkerSettings = ChunkerSettings(),
    fits: Callable[[str], bool] | None = None,
) -> list[ChunkSpan]:
    """Chunks of one document; with `fits`, a chunk it rejects (e.g. over the embedding model's
    window, as dense non-Latin text can be) is cut again with half the budget until it fits."""
    chunks = chunk_text(doc.text, settings)
    if fits is None:
        return chunks
    out: list[ChunkSpan] = []
    for chunk in chunks:
        out.extend(_refit(doc.text, chunk, settings, fits))
    return out


def _refit(text: str, chunk: ChunkSpan, settings: ChunkerSettings, fits: Callable[[str], bool]) -> list[ChunkSpan]:
    if fits(text[chunk.start : chunk.end]) or chunk.n_tokens <= 8:
        return [chunk]
    smaller = ChunkerSettings(max(8, chunk.n_tokens // 2), settings.overlap_sentences, settings.encoding)
    sub = text[chunk.start : chunk.end]
    pieces = chunk_text(sub, smaller)
    if len(pieces) == 1 and pieces[0].n_tokens > smaller.max_tokens:
        # Sentences joined across a long whitespace run can be over budget as a whole; without this
        # cut on token boundaries the same chunk would come back forever.
        pieces = _split_long(sub, 0, len(sub), smaller.max_tokens)
    out: list[ChunkSpan] = []
    for piece in pieces:
        shifted = ChunkSpan(chunk.start + piece.start, chunk.start + piece.end, piece.n_tokens)
        out.extend(_refit(text, shifted, smaller, fits))
    return out
