"""Fit when answering abstains and when it stops reading early, on evaluation sets.

    python bench/tune_answers.py ../shared/eval/squad2-tune ../shared/eval/wikinews-dev --limit 3000 [--write]

Every question is retrieved and read once (all READ_PASSAGES passages, so reading fewer can be
replayed exactly); the rest is computed from those readings. Three steps:

1. SURE_GAP: the smallest margin over no-answer that lets answering stop after retrieval's first
   FIRST_READ passages while every set loses at most --max-loss of answerable F1 (with abstention off).
2. The abstention model (`qa.answer.abstention`): logistic weights over the reading's FEATURES,
   fitted on every set's readings as answering makes them with that SURE_GAP. The label is whether
   answering should answer: the question is answerable and the chosen span is right (F1 >= 0.5).
3. The threshold on its probability. With --min-abstention, the lowest at which the sets it names
   abstain with precision and recall at or above their floors: answer as much as those allow (on news
   questions overall F1 changes little over a wide band of thresholds, while every right answer held
   back is one people asked for and did not get). Without it, the one that maximises, averaged over
   the sets each weighed by its --share, SQuAD 2.0's overall F1 (answerable F1 plus correct
   abstentions, over all questions). Either way the sets named by --min-f1 keep their answerable F1
   at or above its floor.

The figures printed for step 3 are cross-validated (--folds: each question's probability comes from
a model fitted without it), so they estimate how the fitted model does on questions it has not seen.
Figures are SQuAD token F1 / EM of the chosen span (before the fullest-name rule, list widening and the
changing-news step: on news-qa fold 0 what answering shows differs from the replayed span for about one
answerable question in eight, so confirm a change with `qa eval`), span hit (the span
lies in the gold document and holds a gold answer), and abstention precision / recall; ROC AUC says
how well a score separates answerable from unanswerable questions. --write saves the model in the
reader's folder (qa/models/reader/abstention.json for the shipped reader); SURE_GAP is printed to be set in qa/answer/answering.py.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
from dataclasses import asdict, replace
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.common import load_questions as load_set_records  # noqa: E402
from bench.common import news_fold  # noqa: E402
from qa.answer.abstention import FEATURES, AbstentionModel, abstention_for, features  # noqa: E402
from qa.answer.answering import (  # noqa: E402
    FIRST_READ,
    READ_PASSAGES,
    _trimmed,
    choose_span,
    combine_reads,
    rank_spans,
)
from qa.answer.people import resolve_pronoun  # noqa: E402
from qa.answer.reader import ReadSpan  # noqa: E402
from qa.answer.reader_model import ABSTENTION_FILE, resolve_reader  # noqa: E402
from qa.calibration import calibration  # noqa: E402
from qa.evaluation import (  # noqa: E402
    QUESTIONS_FILE,
    RIGHT_F1,
    contains_answer,
    exact_match,
    load_questions,
    open_set_index,
    token_f1,
)
from qa.records import Passage  # noqa: E402

# Spans kept from one reader call, as answering's calls keep them (Reader.read's default `top`).
SPANS_PER_READ = 5


def collect(set_dir: Path, limit: int, seed: int, reader: str | None = None) -> list[dict]:
    """Per question: its golds, the passages retrieved and every span read from them."""
    from qa.progress import progress_bar

    questions = load_questions(set_dir / QUESTIONS_FILE)
    random.Random(seed).shuffle(questions)
    questions = questions[:limit] if limit else questions
    idx = open_set_index(set_dir, None, progress=True, reader=reader)
    kinds = {r["id"]: r.get("kind") for r in load_set_records(set_dir)}
    rows = []
    for q in progress_bar(questions, desc="reading", unit="q"):
        passages = idx.retrieve(q.question, k=READ_PASSAGES)
        reading = idx.reader.read(q.question, [p.text for p in passages], top=5 * READ_PASSAGES)
        rows.append(
            {
                "question": q.question,
                "kind": kinds.get(q.id),
                "answers": list(q.answers),
                "doc_id": q.doc_id,
                "passages": [p.to_dict() for p in passages],
                "spans": [asdict(s) for s in reading.spans],
            }
        )
    return rows


def replay(row: dict, sure: float, chooser: AbstentionModel | None = None) -> dict:
    """What answering makes of a stored reading: the chosen span, its features, and whether all was read. With
    `chooser`, the span is chosen among the reader's first as answering chooses it (`choose_span`); without, the
    reader's first is taken."""
    passages = [Passage(**p) for p in row["passages"]]
    spans = [ReadSpan(**s) for s in row["spans"]]
    first = [s for s in spans if s.passage < FIRST_READ][:SPANS_PER_READ]
    spans, read_all = combine_reads(first, lambda: [s for s in spans if s.passage >= FIRST_READ][:SPANS_PER_READ], sure)
    ranked = rank_spans(spans, passages)
    if not ranked:
        return {"best": None, "x": None, "read_all": read_all}
    best = choose_span(row["question"], passages, spans, ranked, chooser)[0] if chooser else ranked[0][1]
    passage = passages[best.passage]
    start, end = _trimmed(passage.text, best.start, best.end)
    start, end, _ = resolve_pronoun(passage.text, start, end)
    text = passage.text[start:end]
    answers = row["answers"]
    return {
        "best": best,
        "x": features(row["question"], passages, spans, best),
        "read_all": read_all,
        "f1": token_f1(text, answers) if answers else 0.0,
        "em": exact_match(text, answers) if answers else 0.0,
        "hit": bool(answers) and passages[best.passage].doc_id == row["doc_id"] and contains_answer(text, answers),
    }


def figures(rows: list[dict], picks: list[dict], answer: list[bool]) -> dict[str, float]:
    """The figures of one set when answering answers exactly where `answer` says so."""
    f1 = em = hit = right_abstain = wrong_abstain = read_all = 0.0
    n_ans = sum(1 for r in rows if r["answers"])
    for r, pick, yes in zip(rows, picks, answer):
        read_all += pick["read_all"]
        abstain = pick["best"] is None or not yes
        if r["answers"]:
            if abstain:
                wrong_abstain += 1
                continue
            f1, em, hit = f1 + pick["f1"], em + pick["em"], hit + pick["hit"]
        else:
            right_abstain += abstain
    return {
        "f1": f1 / max(1, n_ans),
        "exact_match": em / max(1, n_ans),
        "span_in_gold_doc": hit / max(1, n_ans),
        "abstention_precision": right_abstain / max(1, right_abstain + wrong_abstain),
        "abstention_recall": right_abstain / max(1, len(rows) - n_ans),
        "objective": (f1 + right_abstain) / max(1, len(rows)),
        "read_all": read_all / max(1, len(rows)),
    }


def roc_auc(scores: np.ndarray, positive: np.ndarray) -> float:
    """Area under the ROC curve: the chance a positive scores above a negative (ties count half)."""
    pos, neg = scores[positive], scores[~positive]
    if not len(pos) or not len(neg):
        return float("nan")
    joined = np.concatenate([pos, neg])
    ranks = np.empty(len(joined))
    ranks[np.argsort(joined, kind="mergesort")] = np.arange(1, len(joined) + 1)
    for value in np.unique(joined):  # average ranks over ties
        same = joined == value
        ranks[same] = ranks[same].mean()
    return float((ranks[: len(pos)].sum() - len(pos) * (len(pos) + 1) / 2) / (len(pos) * len(neg)))


def fit_logistic(x: np.ndarray, y: np.ndarray, weight: np.ndarray, l2: float) -> AbstentionModel:
    """L2-regularised logistic regression by Newton's method on standardised features."""
    mean, scale = x.mean(axis=0), x.std(axis=0)
    scale[scale == 0] = 1.0
    z = np.hstack([(x - mean) / scale, np.ones((len(x), 1))])
    beta = np.zeros(z.shape[1])
    penalty = np.full(z.shape[1], l2)
    penalty[-1] = 0.0  # the bias is not shrunk
    for _ in range(50):
        p = 1.0 / (1.0 + np.exp(-np.clip(z @ beta, -50, 50)))
        grad = z.T @ (weight * (p - y)) + penalty * beta
        hess = (z * (weight * p * (1 - p))[:, None]).T @ z + np.diag(penalty)
        step = np.linalg.solve(hess, grad)
        beta -= step
        if np.abs(step).max() < 1e-8:
            break
    return AbstentionModel(tuple(mean), tuple(scale), tuple(beta[:-1]), float(beta[-1]), 0.5)


def choose_threshold(
    sets: dict,
    picks: dict,
    probs: dict,
    min_f1: dict[str, float],
    shares: dict[str, float] | None = None,
    min_abstention: dict[str, tuple[float, float]] | None = None,
) -> float:
    """The probability to answer at. With `min_abstention`, the lowest at which each set it names abstains
    with precision and recall at or above its floor (answer as much as those floors allow); otherwise, or
    where no threshold meets them, the one that maximises the objective averaged over the sets, each
    weighed by its share (1 unless given). Either way each set keeps its `min_f1`."""
    shares, min_abstention = shares or {}, min_abstention or {}
    total = sum(shares.get(n, 1.0) for n in sets)
    candidates = np.unique(np.round(np.concatenate([p for p in probs.values()]), 3))
    best, best_obj = 0.0, -1.0
    for t in np.concatenate([[0.0], candidates]):
        scored = {n: figures(sets[n], picks[n], list(probs[n] >= t)) for n in sets}
        if any(s["f1"] < min_f1.get(n, 0.0) for n, s in scored.items()):
            continue
        if min_abstention and meets_abstention(scored, min_abstention):
            return float(t)
        obj = sum(shares.get(n, 1.0) * s["objective"] for n, s in scored.items()) / total
        if obj > best_obj:
            best, best_obj = float(t), obj
    return best


def meets_abstention(scored: dict[str, dict], min_abstention: dict[str, tuple[float, float]]) -> bool:
    """Whether every set named in `min_abstention` abstains with precision and recall at or above its floors."""
    return all(
        scored[n]["abstention_precision"] >= precision and scored[n]["abstention_recall"] >= recall
        for n, (precision, recall) in min_abstention.items()
    )


def choose_guess_at(probs: list[float], right: list[bool], answer_at: float, min_right: float) -> float:
    """The lowest probability from which the candidates under `answer_at` are right at least `min_right` of
    the time: below it a tentative answer is more often wrong than worth showing."""
    below = sorted((p, r) for p, r in zip(probs, right) if p < answer_at)
    for i, (p, _) in enumerate(below):
        shown = below[i:]
        if sum(r for _, r in shown) >= min_right * len(shown):
            return round(float(p), 3)
    return round(answer_at, 3)


def _print_figures(label: str, scored: dict) -> None:
    for name, s in scored.items():
        print(
            f"  {label:<22} {name[:14]:>14} F1 {s['f1']:.3f} EM {s['exact_match']:.3f} hit {s['span_in_gold_doc']:.3f}"
            f" abst P {s['abstention_precision']:.2f} R {s['abstention_recall']:.2f} obj {s['objective']:.3f}"
        )


def _floors(text: str) -> tuple[float, float]:
    """The abstention precision and recall floors of "V" (both V) or "P,R"."""
    parts = [float(x) for x in text.split(",")]
    if len(parts) not in (1, 2):
        raise ValueError(text)
    return (parts[0], parts[-1])


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("set_dirs", type=Path, nargs="+", metavar="SET_DIR")
    p.add_argument("--limit", type=int, default=0, help="a seeded random sample of N questions per set (0: all)")
    p.add_argument("--seed", type=int, default=7)
    p.add_argument("--reader", default=None, help="a Hugging Face QA folder (default: the shipped reader)")
    p.add_argument("--readings", type=Path, default=None, help="a folder to save the readings to / reuse them from")
    p.add_argument(
        "--min-f1",
        action="append",
        default=None,
        metavar="SET=F1",
        help="answerable F1 a set (by folder name) must keep; repeatable (default squad2-tune=0.665: the target 0.65 "
        "plus what a 3,000-question sample of squad2-tune was seen to run above the whole set)",
    )
    p.add_argument(
        "--min-abstention",
        action="append",
        default=None,
        metavar="SET=V|P,R",
        help="abstention precision and recall a set (by folder name) must reach: V for both, or P,R; repeatable. "
        "Given, the threshold is the lowest that meets every floor, so answering answers as much as they allow; "
        "not given, it maximises SQuAD 2.0's overall F1",
    )
    p.add_argument(
        "--max-loss",
        type=float,
        default=0.01,
        help="answerable F1 a set may lose to early stopping (default 0.01: one question in 100)",
    )
    p.add_argument(
        "--share",
        action="append",
        default=None,
        metavar="SET=S",
        help="how much a set (by folder name) weighs against the largest set, in the fit and in choosing the threshold; "
        "repeatable (default 1 each)",
    )
    p.add_argument("--l2", type=float, default=1.0, help="L2 penalty of the logistic weights")
    p.add_argument(
        "--guess-right",
        type=float,
        default=0.2,
        help="share of tentative answers that must be right: sets the probability from which an abstention "
        "still shows its candidate (default 0.2: one in five)",
    )
    p.add_argument("--folds", type=int, default=5, help="folds of the cross-validated figures")
    p.add_argument(
        "--write",
        action="store_true",
        help=f"save the fitted model as {ABSTENTION_FILE} in the reader's folder (qa/models/reader/ for the shipped one)",
    )
    args = p.parse_args(argv)
    try:
        min_f1 = {k: float(v) for k, v in (item.split("=", 1) for item in args.min_f1 or ["squad2-tune=0.665"])}
        shares = {k: float(v) for k, v in (item.split("=", 1) for item in args.share or [])}
        min_abstention = {k: _floors(v) for k, v in (item.split("=", 1) for item in args.min_abstention or [])}
    except ValueError:
        p.error(
            "--min-f1 and --share take SET=NUMBER, e.g. squad2-tune=0.665; --min-abstention SET=NUMBER or "
            "SET=PRECISION,RECALL, e.g. wikinews-dev=0.65,0.7"
        )
    unknown = sorted(set(min_abstention) - {d.name for d in args.set_dirs})
    if unknown:
        p.error(f"--min-abstention names sets not given: {', '.join(unknown)}")
    sets: dict[str, list[dict]] = {}
    for set_dir in args.set_dirs:
        cached = args.readings / f"{set_dir.name}.json" if args.readings else None
        if cached and cached.is_file():
            sets[set_dir.name] = json.loads(cached.read_text())
            continue
        sets[set_dir.name] = collect(set_dir, args.limit, args.seed, args.reader)
        if cached:
            cached.parent.mkdir(parents=True, exist_ok=True)
            cached.write_text(json.dumps(sets[set_dir.name]))
    for name, rows in sets.items():
        print(f"{name}: {len(rows)} questions, {sum(1 for r in rows if r['answers'])} answerable")

    # Spans are chosen as answering chooses them, with the model the reader has now (refitting moves it little).
    chooser = abstention_for(resolve_reader(args.reader).folder)
    # 1. SURE_GAP, with abstention off.
    full = {n: [replay(r, float("inf"), chooser) for r in rows] for n, rows in sets.items()}
    always = {n: figures(sets[n], full[n], [True] * len(rows)) for n, rows in sets.items()}
    print(f"reading the first {FIRST_READ} passages alone when a span beats no-answer by SURE_GAP (no abstention):")
    sure_gap = None
    for sure in [g / 2 for g in range(8, 41)]:
        part = {
            n: figures(rows, [replay(r, sure, chooser) for r in rows], [True] * len(rows)) for n, rows in sets.items()
        }
        print(
            f"  {sure:5.1f}  "
            + "  ".join(
                f"{n[:10]} F1 {s['f1']:.3f} ({s['f1'] - always[n]['f1']:+.3f}) read all {s['read_all']:.2f}"
                for n, s in part.items()
            )
        )
        if sure_gap is None and all(always[n]["f1"] - part[n]["f1"] <= args.max_loss for n in part):
            sure_gap = sure
    sure_gap = sure_gap if sure_gap is not None else float("inf")
    print(f"chosen: SURE_GAP = {sure_gap}")

    # 2. The abstention model over readings made with that SURE_GAP.
    picks = {n: [replay(r, sure_gap, chooser) for r in rows] for n, rows in sets.items()}
    x, y, weight, where = [], [], [], []
    for n, rows in sets.items():
        for i, (r, pick) in enumerate(zip(rows, picks[n])):
            if pick["best"] is None:
                continue
            x.append(pick["x"])
            y.append(1.0 if r["answers"] and pick["f1"] >= RIGHT_F1 else 0.0)
            # Every set weighs as much as the largest, times its --share: news questions are few but what users
            # ask, and the confidence shown must be calibrated for them.
            weight.append(shares.get(n, 1.0) * max(len(v) for v in sets.values()) / len(rows))
            where.append((n, i))
    x_arr, y_arr, w_arr = np.array(x), np.array(y), np.array(weight)
    # Folds by article: a question's probability comes from a model fitted without any question on its article.
    folds = np.array([news_fold(f"{n}/{sets[n][i]['doc_id']}", args.folds) for n, i in where])
    if len(set(folds.tolist())) < 2:
        # Too few articles to hold whole ones out (a set of one article): the questions are spread instead.
        folds = np.arange(len(where)) % args.folds
    held_out = np.zeros(len(x_arr))
    for f in range(args.folds):
        model = fit_logistic(x_arr[folds != f], y_arr[folds != f], w_arr[folds != f], args.l2)
        held_out[folds == f] = [model.probability(v) for v in x_arr[folds == f]]
    probs = {n: np.zeros(len(rows)) for n, rows in sets.items()}
    for (n, i), prob in zip(where, held_out):
        probs[n][i] = prob

    # 3. The threshold, chosen and scored on held-out probabilities.
    answer_at = choose_threshold(sets, picks, probs, min_f1, shares, min_abstention)
    guess_at = choose_guess_at(
        [probs[n][i] for n, i in where],
        [bool(sets[n][i]["answers"]) and picks[n][i]["f1"] >= RIGHT_F1 for n, i in where],
        answer_at,
        args.guess_right,
    )
    print(f"tentative answers from probability {guess_at:.3f} (right at least {args.guess_right:.0%} of the time)")
    print(f"abstention (cross-validated over {args.folds} folds), answering at probability {answer_at:.3f}:")
    at_threshold = {n: figures(sets[n], picks[n], list(probs[n] >= answer_at)) for n in sets}
    if min_abstention and not meets_abstention(at_threshold, min_abstention):
        print("  (no threshold meets every --min-abstention floor: chosen by overall F1 instead)")
    _print_figures("always answer", {n: figures(sets[n], picks[n], [True] * len(sets[n])) for n in sets})
    gap_probs = {n: np.array([pk["best"].gap if pk["best"] else -99.0 for pk in picks[n]]) for n in sets}
    gap_at = choose_threshold(sets, picks, gap_probs, min_f1, shares, min_abstention)
    _print_figures(
        f"margin {gap_at:.2f} alone", {n: figures(sets[n], picks[n], list(gap_probs[n] >= gap_at)) for n in sets}
    )
    _print_figures("abstention model", at_threshold)
    for n, rows in sets.items():
        by_kind: dict[str, list[int]] = {}
        for i, r in enumerate(rows):
            if r.get("kind"):
                by_kind.setdefault(r["kind"], []).append(i)
        for kind, members in sorted(by_kind.items()):
            part_rows, part_picks = [rows[i] for i in members], [picks[n][i] for i in members]
            always_f1 = figures(part_rows, part_picks, [True] * len(members))["f1"]
            part = figures(part_rows, part_picks, [probs[n][i] >= answer_at for i in members])
            print(
                f"  {n[:14]:>14} {kind:<13} {len(members):4d} q  F1 {part['f1']:.3f} (always answering {always_f1:.3f})"
                f"  abstained right {part['abstention_recall']:.2f}"
            )
    for n, rows in sets.items():
        right = [
            pk["best"] is not None and bool(r["answers"]) and pk["f1"] >= RIGHT_F1 for r, pk in zip(rows, picks[n])
        ]
        shown = [i for i, pk in enumerate(picks[n]) if pk["best"] is not None]
        table = calibration([probs[n][i] for i in shown], [right[i] for i in shown])
        print(
            f"  calibration {n[:14]:>14}: expected calibration error {table.ece or 0.0:.3f}; "
            + " ".join(
                f"[{b.low:.1f},{b.high:.1f}) n={b.count} conf {b.mean_confidence:.2f} right {b.share_right:.2f}"
                for b in table.bands
                if b.count
            )
        )
    for n, rows in sets.items():
        answerable = np.array([bool(r["answers"]) for r in rows])
        print(
            f"  ROC AUC answerable vs not {n[:14]:>14}: margin {roc_auc(gap_probs[n], answerable):.3f}"
            f"  model {roc_auc(probs[n], answerable):.3f}"
        )

    model = replace(fit_logistic(x_arr, y_arr, w_arr, args.l2), answer_at=answer_at, guess_at=guess_at)
    print("weights (standardised):")
    for name, w in zip(FEATURES, model.weights):
        print(f"  {name:<22} {w:+.3f}")
    if args.write:
        path = resolve_reader(args.reader).folder / ABSTENTION_FILE
        path.write_text(json.dumps(model.to_dict(), indent=1) + "\n")
        print(f"saved {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
