"""The reader alone on an evaluation set's gold paragraphs, scored the official SQuAD 2.0 way.

    python bench/eval_reader.py ../shared/eval/squad2-tune [--reader DIR] [--variant int8|fp32] [--limit N]

Each question is read against its own gold document. The prediction is the reader's best span, or
no answer when the span does not beat the no-answer score by the margin; EM and F1 are SQuAD 2.0's
(an unanswerable question scores 1 for no answer). Prints the figures at margin 0 (the model's own call), the
margin that would maximise F1 on this set, and reading speed.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from qa.answer.reader import get_reader  # noqa: E402
from qa.evaluation import exact_match, load_questions, token_f1  # noqa: E402


def _scores(rows: list[tuple], margin: float) -> dict[str, float]:
    """EM / F1 overall and on answerable questions, and no-answer accuracy, at `margin`."""
    em = f1 = has_em = has_f1 = no_right = 0.0
    n_has = sum(1 for _, golds, _ in rows if golds)
    for text, golds, gap in rows:
        predicted = text if gap >= margin else ""
        if golds:
            e, f = exact_match(predicted, golds), token_f1(predicted, golds)
            has_em, has_f1 = has_em + e, has_f1 + f
        else:
            e = f = float(predicted == "")
            no_right += e
        em, f1 = em + e, f1 + f
    n = len(rows)
    return {
        "exact_match": em / n,
        "f1": f1 / n,
        "has_answer_exact_match": has_em / max(1, n_has),
        "has_answer_f1": has_f1 / max(1, n_has),
        "no_answer_accuracy": no_right / max(1, n - n_has),
    }


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("set_dir", type=Path)
    p.add_argument("--reader", default=None, help="a Hugging Face QA folder (default: the shipped reader)")
    p.add_argument("--variant", default="int8", choices=("int8", "fp32"))
    p.add_argument("--limit", type=int, default=0, help="only the first N questions (0: all)")
    p.add_argument("--json", action="store_true")
    args = p.parse_args(argv)

    docs = {}
    with open(args.set_dir / "corpus.jsonl", encoding="utf-8") as f:
        for line in f:
            rec = json.loads(line)
            docs[rec["id"]] = rec["text"]
    questions = [q for q in load_questions(args.set_dir / "questions.jsonl") if q.doc_id in docs]
    if args.limit:
        questions = questions[: args.limit]
    reader = get_reader(args.reader, args.variant)
    rows, times = [], []
    for q in questions:
        t0 = time.perf_counter()
        reading = reader.read(q.question, [docs[q.doc_id]])
        times.append(time.perf_counter() - t0)
        best = reading.best
        rows.append((best.text if best else "", q.answers, best.gap if best else float("-inf")))
    at_zero = _scores(rows, 0.0)
    gaps = sorted({round(g, 2) for _, _, g in rows if g != float("-inf")})
    candidates = [gaps[i] for i in range(0, len(gaps), max(1, len(gaps) // 400))]
    best_margin = max(candidates, key=lambda m: _scores(rows, m)["f1"]) if candidates else 0.0
    result = {
        "questions": len(rows),
        "answerable": sum(1 for _, g, _ in rows if g),
        "reader": reader.ref.id,
        "variant": args.variant,
        "at_margin": {"margin": 0.0, **at_zero},
        "best_margin": {"margin": best_margin, **_scores(rows, best_margin)},
        "always_answer": _scores(rows, float("-inf")),
        "read_ms_p50": 1000 * statistics.median(times),
    }
    if args.json:
        print(json.dumps(result, indent=2))
        return 0
    print(
        f"{result['questions']} questions ({result['answerable']} answerable), reader {result['reader']} {args.variant}"
    )
    for name in ("at_margin", "best_margin", "always_answer"):
        r = result[name]
        print(
            f"  {name:14} EM {r['exact_match']:.3f}  F1 {r['f1']:.3f}  answerable EM {r['has_answer_exact_match']:.3f}"
            f" F1 {r['has_answer_f1']:.3f}  no-answer acc {r['no_answer_accuracy']:.3f}"
            + (f"  (margin {r['margin']:.2f})" if "margin" in r else "")
        )
    print(f"  reading one gold paragraph: p50 {result['read_ms_p50']:.1f} ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())
