"""Calibration of confidences: whether, of the answers shown at about 0.7, about 70% are right."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

BANDS = 10


@dataclass(frozen=True)
class Band:
    """One band of confidence [low, high): how many answers fell in it, their mean confidence and the
    share of them that were right (None for an empty band)."""

    low: float
    high: float
    count: int
    mean_confidence: float | None
    share_right: float | None


@dataclass(frozen=True)
class Calibration:
    """Expected calibration error over equal-width bands of confidence, and the reliability table."""

    ece: float | None  # None when nothing was counted
    count: int
    bands: tuple[Band, ...]

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready form."""
        return {"ece": self.ece, "count": self.count, "bands": [asdict(b) for b in self.bands]}


def calibration(confidences: Sequence[float], right: Sequence[bool], bands: int = BANDS) -> Calibration:
    """Reliability table over `bands` equal-width bands of [0, 1] (1.0 in the last) and the expected calibration
    error: each band's gap between share right and mean confidence, weighted by its count."""
    if len(confidences) != len(right):
        raise ValueError(f"{len(confidences)} confidences for {len(right)} outcomes")
    members: list[list[tuple[float, bool]]] = [[] for _ in range(bands)]
    for c, ok in zip(confidences, right):
        c = min(1.0, max(0.0, float(c)))
        members[min(int(c * bands), bands - 1)].append((c, bool(ok)))
    table = []
    gap = 0.0
    for i, held in enumerate(members):
        mean = sum(c for c, _ in held) / len(held) if held else None
        share = sum(ok for _, ok in held) / len(held) if held else None
        if held:
            gap += len(held) * abs(share - mean)
        table.append(Band(i / bands, (i + 1) / bands, len(held), mean, share))
    n = len(confidences)
    return Calibration(gap / n if n else None, n, tuple(table))
