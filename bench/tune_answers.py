"""Fit the answer step's two constants on an evaluation set: how much retrieval adds to a span's reader
score (RETRIEVAL_WEIGHT) and the margin over no-answer below which the reader abstains (NO_ANSWER_MARGIN).

    python bench/tune_answers.py ../shared/eval/squad2-tune ../shared/eval/wikinews-dev [--limit N]

Every question is retrieved and read once; the grid is then scored from those readings, so trying a
setting costs nothing. Figures are SQuAD token F1 / EM of the chosen span (before the fullest-name
rule), span hit (the span lies in the gold document and holds a gold answer), and abstention
precision / recall. The chosen setting maximises, averaged over the sets given, SQuAD 2.0's overall
F1 (answerable F1 plus correct abstentions, over all questions), among the settings that keep the
answerable F1 of every set at --min-f1 or above: abstain as much as short-answer quality allows.
Then SURE_GAP: the smallest gap over no-answer that lets answering stop after the first passages
while every set loses at most --max-loss of answerable F1.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from qa.answer.answering import FIRST_READ, READ_PASSAGES  # noqa: E402
from qa.evaluation import QUESTIONS_FILE, contains_answer, exact_match, load_questions, open_set_index, token_f1  # noqa: E402

WEIGHTS = (0.0, 1.0, 2.0, 4.0, 6.0, 8.0, 12.0)


def collect(set_dir: Path, limit: int, seed: int, reader: str | None = None) -> list[dict]:
    """Per question: its golds, and every read span with its gap, passage score and whether it is in the gold doc."""
    from tqdm import tqdm

    questions = load_questions(set_dir / QUESTIONS_FILE)
    random.Random(seed).shuffle(questions)
    questions = questions[:limit] if limit else questions
    idx = open_set_index(set_dir, None, progress=True, reader=reader)
    rows = []
    for q in tqdm(questions, desc="reading", unit="q", file=sys.stderr):
        passages = idx.retrieve(q.question, k=READ_PASSAGES)
        # Every passage's spans, so that reading only the first FIRST_READ can be replayed exactly.
        reading = idx.reader.read(q.question, [p.text for p in passages], top=5 * READ_PASSAGES)
        spans = [
            {
                "text": s.text.strip(" ,;:"),
                "gap": s.gap,
                "score": s.score,
                "no_answer": s.no_answer,
                "retrieval": passages[s.passage].score,
                "gold_doc": passages[s.passage].doc_id == q.doc_id,
                "passage": s.passage,
            }
            for s in reading.spans
        ]
        rows.append({"answers": list(q.answers), "spans": spans})
    return rows


def best_span(spans: list[dict], weight: float, sure: float) -> tuple[dict | None, bool]:
    """The span answering picks, and whether the passages after the first FIRST_READ were read for it."""
    first = [s for s in spans if s["passage"] < FIRST_READ]
    if first and max(s["gap"] for s in first) >= sure:
        spans = first
    return max(spans, key=lambda s: s["gap"] + weight * s["retrieval"], default=None), spans is not first


def score(rows: list[dict], weight: float, margin: float, sure: float = float("inf")) -> dict[str, float]:
    """The figures of one setting; `sure` is the gap that spares reading past the first passages."""
    f1 = em = hit = right_abstain = wrong_abstain = read_all = 0.0
    n_ans = sum(1 for r in rows if r["answers"])
    for r in rows:
        best, read_rest = best_span(r["spans"], weight, sure)
        read_all += read_rest
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
        "read_all": read_all / max(1, len(rows)),
    }


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("set_dirs", type=Path, nargs="+", metavar="SET_DIR")
    p.add_argument("--limit", type=int, default=0, help="a seeded random sample of N questions per set (0: all)")
    p.add_argument("--seed", type=int, default=7)
    p.add_argument("--reader", default=None, help="a Hugging Face QA folder (default: the shipped reader)")
    p.add_argument("--readings", type=Path, default=None, help="a folder to save the readings to / reuse them from")
    p.add_argument("--min-f1", type=float, default=0.65, help="answerable F1 every set must keep (default 0.65)")
    p.add_argument(
        "--max-loss",
        type=float,
        default=0.01,
        help="answerable F1 a set may lose to early stopping (default 0.01: one question in 100)",
    )
    args = p.parse_args(argv)
    sets = {}
    for set_dir in args.set_dirs:
        cached = args.readings / f"{set_dir.name}.json" if args.readings else None
        if cached and cached.is_file():
            sets[set_dir.name] = json.loads(cached.read_text())
            continue
        sets[set_dir.name] = collect(set_dir, args.limit, args.seed, args.reader)
        if cached:
            cached.parent.mkdir(parents=True, exist_ok=True)
            cached.write_text(json.dumps(sets[set_dir.name]))
    margins = [m / 4 for m in range(-16, 61)]
    grid = [(w, m) for w in WEIGHTS for m in margins]
    scored = {(w, m): {name: score(rows, w, m) for name, rows in sets.items()} for w, m in grid}

    def objective(key: tuple[float, float]) -> float:
        return sum(r["objective"] for r in scored[key].values()) / len(sets)

    allowed = [key for key in grid if all(r["f1"] >= args.min_f1 for r in scored[key].values())] or grid
    best = max(allowed, key=objective)
    for name, rows in sets.items():
        print(f"{name}: {len(rows)} questions, {sum(1 for r in rows if r['answers'])} answerable")
    print(
        f"{'weight':>6} {'margin':>6} {'set':>14} {'F1':>6} {'EM':>6} {'hit':>6} {'abst P':>6} {'abst R':>6} {'obj':>6}"
    )
    for w in WEIGHTS:
        w_best = max((key for key in allowed if key[0] == w), default=None, key=objective)
        if w_best is None:
            continue
        for name, s in scored[w_best].items():
            print(
                f"{w:6.1f} {w_best[1]:6.2f} {name[:14]:>14} {s['f1']:6.3f} {s['exact_match']:6.3f}"
                f" {s['span_in_gold_doc']:6.3f} {s['abstention_precision']:6.3f} {s['abstention_recall']:6.3f}"
                f" {s['objective']:6.3f}"
            )
    print(f"margins at weight {best[0]}:")
    for m in margins[::4]:
        figures = "  ".join(
            f"{name[:10]} F1 {s['f1']:.3f} P {s['abstention_precision']:.2f} R {s['abstention_recall']:.2f}"
            for name, s in scored[(best[0], m)].items()
        )
        print(f"  {m:6.2f}  {figures}")
    print(f"chosen: RETRIEVAL_WEIGHT = {best[0]}, NO_ANSWER_MARGIN = {best[1]}")
    # Reading the first passages alone: the smallest sure gap whose answers lose at most --max-loss of F1.
    print(f"reading the first {FIRST_READ} passages alone when a span beats no-answer by SURE_GAP:")
    full = {name: score(rows, *best) for name, rows in sets.items()}
    chosen_sure = None
    for sure in [g / 2 for g in range(8, 41)]:
        part = {name: score(rows, *best, sure=sure) for name, rows in sets.items()}
        figures = "  ".join(
            f"{name[:10]} F1 {s['f1']:.3f} ({s['f1'] - full[name]['f1']:+.3f}) read all {s['read_all']:.2f}"
            for name, s in part.items()
        )
        print(f"  {sure:5.1f}  {figures}")
        if chosen_sure is None and all(full[n]["f1"] - part[n]["f1"] <= args.max_loss for n in part):
            chosen_sure = sure
    print(f"chosen: SURE_GAP = {chosen_sure}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
