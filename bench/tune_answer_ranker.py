"""Fit the short-answer ranker (qa/answer_ranker.json) on a question set with gold answers.

    python bench/tune_answer_ranker.py ../shared/eval/squad2-tune [--limit N] [--write]

Every candidate span of every question becomes a row of features (see qa.candidates.FEATURES),
labelled 1 when it matches a gold answer (token F1 >= 0.5). A logistic model is fitted on the
articles of one half of the set and measured on the other half (split by article, so no paragraph
is seen twice); with --write, the model refitted on all rows is saved. The weights in the repository are set by
hand: a model fitted on SQuAD paragraphs prefers long noun phrases and missed short names in news
articles, so fitted weights are checked on news questions before they replace the hand-set ones. The abstention threshold that
maximises twice the answer accuracy plus the abstention accuracy on the held-out half is printed.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import zlib
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from qa.answering import deliberate  # noqa: E402
from qa.candidates import _WEIGHTS_FILE, FEATURES  # noqa: E402
from qa.evaluation import open_set_index, token_f1  # noqa: E402


def _index_for(set_dir: Path):
    return open_set_index(set_dir, None, progress=True)


def collect(index, questions):
    rows = []
    from tqdm import tqdm

    for q in tqdm(questions, desc="candidates", unit="q"):
        d = deliberate(index, q["question"])
        feats, labels = [], []
        for span in d.candidates:
            feats.append([span.features.get(f, 0.0) for f in FEATURES])
            labels.append(int(bool(q["answers"]) and token_f1(span.text, q["answers"]) >= 0.5))
        rows.append((q, d, np.array(feats).reshape(-1, len(FEATURES)), np.array(labels)))
    reachable = sum(1 for r in rows if r[0]["answers"] and r[3].any()) / max(1, sum(1 for r in rows if r[0]["answers"]))
    print(f"answerable questions with a right answer among the candidates: {reachable:.3f}")
    return rows


def fit(rows):
    from sklearn.linear_model import LogisticRegression

    x = np.concatenate([r[2] for r in rows if len(r[2])])
    y = np.concatenate([r[3] for r in rows if len(r[3])])
    model = LogisticRegression(C=1.0, max_iter=2000).fit(x, y)
    return model


def judge(model, rows, threshold):
    answered = correct = f1_sum = abstained_right = n_answerable = n_unanswerable = 0
    for q, d, x, _ in rows:
        best_text, best_p = None, 0.0
        if len(x):
            p = model.predict_proba(x)[:, 1]
            i = int(p.argmax())
            best_text, best_p = d.candidates[i].text, float(p[i])
        abstain = best_text is None or best_p < threshold
        if q["answers"]:
            n_answerable += 1
            if not abstain:
                answered += 1
                f1 = token_f1(best_text, q["answers"])
                f1_sum += f1
                correct += f1 >= 0.5
        else:
            n_unanswerable += 1
            abstained_right += abstain
    return {
        "f1": f1_sum / max(1, n_answerable),
        "correct": correct / max(1, n_answerable),
        "abstention_recall": abstained_right / max(1, n_unanswerable),
        "answered": answered / max(1, n_answerable),
    }


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("set_dir", type=Path)
    ap.add_argument("--limit", type=int, default=None)
    ap.add_argument("--write", action="store_true", help=f"save the refitted model to {_WEIGHTS_FILE}")
    args = ap.parse_args()
    questions = [json.loads(line) for line in (args.set_dir / "questions.jsonl").read_text().splitlines() if line]
    random.Random(0).shuffle(questions)
    questions = questions[: args.limit]
    index = _index_for(args.set_dir)
    rows = collect(index, questions)
    article = lambda q: str(q.get("doc_id", q["id"])).split("/")[0]  # noqa: E731
    train = [r for r in rows if zlib.crc32(article(r[0]).encode()) % 2 == 0]
    held = [r for r in rows if zlib.crc32(article(r[0]).encode()) % 2 == 1]
    model = fit(train)
    print(f"{len(train)} training questions, {len(held)} held-out questions")
    best = None
    for threshold in np.arange(0.05, 0.7, 0.05):
        m = judge(model, held, threshold)
        # A missed answer costs twice a wrong one: every answer comes with citations a reader can
        # check at a glance, while an abstention leaves them nothing.
        balance = (2 * m["correct"] + m["abstention_recall"]) / 3
        print(
            f"threshold {threshold:.2f}: "
            + ", ".join(f"{k} {v:.3f}" for k, v in m.items())
            + f", balance {balance:.3f}"
        )
        if best is None or balance > best[0]:
            best = (balance, threshold)
    print(f"best threshold on held-out articles: {best[1]:.2f}")
    if args.write:
        final = fit(rows)
        weights = {f: round(float(w), 4) for f, w in zip(FEATURES, final.coef_[0])}
        data = {
            "bias": round(float(final.intercept_[0]), 4),
            "weights": weights,
            "abstain_below": round(float(best[1]), 2),
            "fitted_on": f"{args.set_dir.name}: {len(rows)} questions",
        }
        _WEIGHTS_FILE.write_text(json.dumps(data, indent=2) + "\n")
        print(f"wrote {_WEIGHTS_FILE}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
