"""Split news-qa by article into evaluation sets that `qa eval` and the benchmarks read.

    python bench/news_folds.py --out runs/news-qa          # runs/news-qa/fold-0 … fold-4

Each fold folder holds `questions.jsonl` (the news-qa questions about that fold's articles, with their
`kind`) and `corpus.jsonl` (all 293 Wikinews articles, so retrieval meets the same distractors as a
user's corpus). The folds are the ones `bench/train_reader.py --news-holdout K` leaves out of training.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import NEWS_FOLDS, NEWS_QA, SHARED, news_fold  # noqa: E402

CORPUS = SHARED / "eval" / "wikinews-dev" / "corpus.jsonl"


def write_folds(questions: Path, corpus: Path, out: Path) -> list[Path]:
    """One set folder per fold under `out`; returns them in fold order."""
    rows = [json.loads(line) for line in questions.read_text(encoding="utf-8").splitlines() if line.strip()]
    folders = []
    for fold in range(NEWS_FOLDS):
        folder = out / f"fold-{fold}"
        folder.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(corpus, folder / "corpus.jsonl")
        mine = [r for r in rows if news_fold(r["doc_id"]) == fold]
        (folder / "questions.jsonl").write_text("".join(json.dumps(r) + "\n" for r in mine), encoding="utf-8")
        folders.append(folder)
    return folders


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--out", type=Path, required=True, help="folder to write fold-0 … fold-4 into")
    p.add_argument("--questions", type=Path, default=NEWS_QA, help="news-qa questions.jsonl")
    p.add_argument("--corpus", type=Path, default=CORPUS, help="the articles the questions ask about")
    args = p.parse_args(argv)
    for path in (args.questions, args.corpus):
        if not path.is_file():
            print(f"error: {path} not found; it comes with the shared data (../shared)", file=sys.stderr)
            return 2
    for folder in write_folds(args.questions, args.corpus, args.out):
        n = sum(1 for _ in (folder / "questions.jsonl").open())
        print(f"{folder}: {n} questions")
    return 0


if __name__ == "__main__":
    sys.exit(main())
