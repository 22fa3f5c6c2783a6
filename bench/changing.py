"""How answers hold up when the news changes: does the newest report answer, with its date and the earlier ones?

    python bench/changing.py SET_DIR [--corpus-set DIR] [--json]

SET_DIR holds questions.jsonl whose records list `reports` (doc_id, date, answer; oldest first) and
`latest` (the newest report's doc_id), as `../shared/eval/changing-dev` does; its articles are those of
`--corpus-set` (default: SET_DIR/../wikinews-dev), indexed as `qa eval` indexes them. An answer matches a
report when its token F1 against that report's answer is at least 0.5. Prints how many questions the newest
report answers, how many an older one, how many answers carry `as_of` and how many list `earlier` reports.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import load_questions, write_json  # noqa: E402

MATCH_F1 = 0.5


def score(record: dict, answer: dict) -> dict:
    """What one answer (`Answer.to_dict()`) did with one question's dated reports."""
    from qa.evaluation import token_f1

    text = answer.get("answer")
    newest = next(r for r in record["reports"] if r["doc_id"] == record["latest"])
    matches = [r for r in record["reports"] if text and token_f1(text, [r["answer"]]) >= MATCH_F1]
    by_newest = any(r["doc_id"] == newest["doc_id"] or r["answer"] == newest["answer"] for r in matches)
    return {
        "id": record["id"],
        "answer": text,
        "newest": by_newest,
        "older": bool(matches) and not by_newest,
        "as_of": answer.get("as_of") if text else None,
        "earlier": len(answer.get("earlier") or []) if text else 0,
        "cites_newest": any(c["doc_id"] == newest["doc_id"] for c in answer.get("citations", [])),
    }


def run(set_dir: Path, corpus_set: Path) -> dict:
    """Ask every question of the set and count the outcomes."""
    from qa.encoders.models import force_offline
    from qa.evaluation import open_set_index

    force_offline()
    idx = open_set_index(corpus_set, None, progress=False)
    rows = [score(r, idx.answer(r["question"]).to_dict()) for r in load_questions(set_dir)]
    idx.close()
    return {
        "set": str(set_dir),
        "questions": len(rows),
        "newest_answers": sum(r["newest"] for r in rows),
        "older_answers": sum(r["older"] for r in rows),
        "abstained": sum(r["answer"] is None for r in rows),
        "with_as_of": sum(r["as_of"] is not None for r in rows),
        "with_earlier": sum(r["earlier"] > 0 for r in rows),
        "cite_newest": sum(r["cites_newest"] for r in rows),
        "rows": rows,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("set_dir", type=Path, metavar="SET_DIR")
    parser.add_argument("--corpus-set", type=Path, default=None, metavar="DIR", help="the set holding corpus.jsonl")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    args = parser.parse_args()
    corpus_set = args.corpus_set or args.set_dir.parent / "wikinews-dev"
    result = run(args.set_dir, corpus_set)
    write_json("changing.json", result)
    if args.json:
        print(json.dumps(result, indent=2))
        return 0
    for r in result["rows"]:
        flag = "newest" if r["newest"] else "older" if r["older"] else "-"
        print(f"{r['id']:8} {flag:7} as_of={r['as_of'] or '-':10} earlier={r['earlier']} {r['answer']!r}")
    n = result["questions"]
    print(
        f"newest report answers {result['newest_answers']}/{n}, an older one {result['older_answers']}, "
        f"abstained {result['abstained']}; as_of shown {result['with_as_of']}, earlier listed "
        f"{result['with_earlier']}; the newest article cited {result['cite_newest']}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
