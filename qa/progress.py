"""Progress of long work on stderr: a live bar on a terminal, a plain line now and then in a log."""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Iterable, Iterator
from typing import IO, Any

# Off a terminal, one line at most this often (and one at the end): a log of a long run keeps a few lines.
LINE_EVERY_SECONDS = 30.0


class LineProgress:
    """The part of tqdm's interface the package uses (iterate, update, close, `with`), written as whole lines."""

    def __init__(
        self,
        iterable: Iterable[Any] | None = None,
        *,
        total: int | None = None,
        desc: str = "",
        unit: str = "it",
        file: IO[str] | None = None,
        every: float = LINE_EVERY_SECONDS,
    ) -> None:
        self.iterable = iterable
        if total is None and iterable is not None and hasattr(iterable, "__len__"):
            total = len(iterable)  # type: ignore[arg-type]
        self.total, self.desc, self.unit, self.every = total, desc, unit, every
        self.file = file if file is not None else sys.stderr
        self.n = 0
        self.postfix = ""
        self.start = self.last = time.monotonic()
        self.closed = False
        # ONNX batches report from worker threads.
        self._lock = threading.Lock()

    def __iter__(self) -> Iterator[Any]:
        try:
            for item in self.iterable or ():
                yield item
                self.update(1)
        finally:
            self.close()

    def __enter__(self) -> LineProgress:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def update(self, n: int = 1) -> None:
        """Count `n` more done; print a line if the last one is older than `every` seconds."""
        with self._lock:
            self.n += n
            now = time.monotonic()
            if now - self.last >= self.every:
                self.last = now
                self._print(now)

    def set_postfix(self, **values: Any) -> None:
        """Figures to add at the end of each line from now on (as tqdm shows them after its bar)."""
        with self._lock:
            self.postfix = ", ".join(f"{k}={v}" for k, v in values.items())

    def close(self) -> None:
        """Print the final line once."""
        with self._lock:
            if not self.closed:
                self.closed = True
                self._print(time.monotonic())

    def line(self, now: float | None = None) -> str:
        """The text of one progress line: what, how many of how many, time so far and rate."""
        elapsed = (time.monotonic() if now is None else now) - self.start
        done = f"{self.n}/{self.total}" if self.total else str(self.n)
        if self.total:
            done += f" ({100 * self.n / self.total:.0f}%)"
        rate = self.n / elapsed if elapsed > 0 else 0.0
        line = f"{self.desc + ': ' if self.desc else ''}{done} {self.unit} in {elapsed:.1f}s, {rate:.1f} {self.unit}/s"
        return f"{line}, {self.postfix}" if self.postfix else line

    def _print(self, now: float) -> None:
        try:
            print(self.line(now), file=self.file, flush=True)
        except (OSError, ValueError):
            pass  # a closed or broken log must not stop the work it reports on


def progress_bar(
    iterable: Iterable[Any] | None = None,
    *,
    total: int | None = None,
    desc: str = "",
    unit: str = "it",
    enabled: bool = True,
    file: IO[str] | None = None,
):
    """A tqdm bar on a terminal; off one (a log, CI, a service), a LineProgress; with `enabled` False, silent."""
    from tqdm import tqdm

    file = file if file is not None else sys.stderr
    if not enabled:
        return tqdm(iterable, total=total, disable=True)
    if is_terminal(file):
        return tqdm(iterable, total=total, desc=desc, unit=unit, dynamic_ncols=True, file=file)
    return LineProgress(iterable, total=total, desc=desc, unit=unit, file=file)


def is_terminal(file: IO[str]) -> bool:
    """True when `file` is a terminal (a person watches it), False for a log, a pipe or a closed file."""
    try:
        return file.isatty()
    except (AttributeError, ValueError):
        return False
