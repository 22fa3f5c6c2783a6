"""Fit the answer step's two constants on an evaluation set: how much retrieval adds to a span's reader
score (RETRIEVAL_WEIGHT) and the margin over no-answer below which the reader abstains (NO_ANSWER_MARGIN).

    python bench/tune_answers.py ../shared/eval/squad2-tune [--limit N]

Every question is retrieved and read once; the grid is then scored from those readings, so trying a
setting costs nothing. Figures are SQuAD token F1 / EM of the chosen span (before the fullest-name
rule), span hit (the span lies in the gold document and holds a gold answer), and abstention
precision / recall. The chosen setting maximises answerable F1 + correct abstentions, over all questions.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from qa.answering import READ_PASSAGES  # noqa: E402
from qa.evaluation import QUESTIONS_FILE, contains_answer, exact_match, load_questions, open_set_index, token_f1  # noqa: E402

WEIGHTS = (0.0, 0.5, 1.0, 2.0, 3.0, 4.0, 6.0)


def collect(set_dir: Path, limit: int, seed: int) -> list[dict]:
    """Per question: its golds, and every read span with its gap, passage score and whether it is in the gold doc."""
    from tqdm import tqdm

    questions = load_questions(set_dir / QUESTIONS_FILE)
    random.Random(seed).shuffle(questions)
    questions = questions[:limit] if limit else questions
    idx = open_set_index(set_dir, None, progress=True)
    rows = []
    for q in tqdm(questions, desc="reading", unit="q", file=sys.stderr):
        passages = idx.retrieve(q.question, k=READ_PASSAGES)
        reading = idx.reader.read(q.question, [p.text for p in passages])
        spans = [
            {
                "text": s.text.strip(" ,;:."),
                "gap": s.gap,
                "retrieval": passages[s.passage].score,
                "gold_doc": passages[s.passage].doc_id == q.doc_id,
            }
            for s in reading.spans
        ]
        rows.append({"answers": list(q.answers), "spans": spans})
    return rows


def score(rows: list[dict], weight: float, margin: float) -> dict[str, float]:
    """The figures of one setting."""
    f1 = em = hit = right_abstain = wrong_abstain = 0.0
    n_ans = sum(1 for r in rows if r["answers"])
    for r in rows:
        best = max(r["spans"], key=lambda s: s["gap"] + weight * s["retrieval"], default=None)
        abstain = best is None or best["gap"] < margin
        if r["answers"]:
            if abstain:
                wrong_abstain += 1
                continue
            f1 += token_f1(best["text"], r["answers"])
            em += exact_match(best["text"], r["answers"])
            hit += best["gold_doc"] and contains_answer(best["text"], r["answers"])
        else:
            right_abstain += abstain
    n_un = len(rows) - n_ans
    return {
        "f1": f1 / max(1, n_ans),
        "exact_match": em / max(1, n_ans),
        "span_in_gold_doc": hit / max(1, n_ans),
        "abstention_precision": right_abstain / max(1, right_abstain + wrong_abstain),
        "abstention_recall": right_abstain / max(1, n_un),
        "objective": (f1 + right_abstain) / max(1, len(rows)),
    }


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("set_dir", type=Path)
    p.add_argument("--limit", type=int, default=0, help="a seeded random sample of N questions (0: all)")
    p.add_argument("--seed", type=int, default=7)
    p.add_argument("--readings", type=Path, default=None, help="save the readings to / reuse them from this file")
    args = p.parse_args(argv)
    if args.readings and args.readings.is_file():
        rows = json.loads(args.readings.read_text())
    else:
        rows = collect(args.set_dir, args.limit, args.seed)
        if args.readings:
            args.readings.write_text(json.dumps(rows))
    margins = [m / 4 for m in range(-16, 17)]
    results = [(w, m, score(rows, w, m)) for w in WEIGHTS for m in margins]
    best = max(results, key=lambda r: r[2]["objective"])
    print(f"{len(rows)} questions, {sum(1 for r in rows if r['answers'])} answerable")
    print(f"{'weight':>6} {'margin':>6} {'F1':>6} {'EM':>6} {'hit':>6} {'abst P':>6} {'abst R':>6} {'obj':>6}")
    for w in WEIGHTS:
        w_best = max((r for r in results if r[0] == w), key=lambda r: r[2]["objective"])
        s = w_best[2]
        print(
            f"{w:6.1f} {w_best[1]:6.2f} {s['f1']:6.3f} {s['exact_match']:6.3f} {s['span_in_gold_doc']:6.3f}"
            f" {s['abstention_precision']:6.3f} {s['abstention_recall']:6.3f} {s['objective']:6.3f}"
        )
    print(f"chosen: RETRIEVAL_WEIGHT = {best[0]}, NO_ANSWER_MARGIN = {best[1]}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
