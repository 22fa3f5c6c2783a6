"""How widening a span to its whole list recovers list answers from one of their items, without the reader.

    python bench/whole_lists.py [--questions FILE] [--corpus FILE] [--part] [--json]

For every `list` question of the set (default: ../shared/train/news-qa) whose gold answer is found in its
article, each item of the gold list is taken as the span the reader might have read (with `--part`, the
second half of each item of two words or more) and widened as answering widens it
(`qa.answer.lists.list_answer`: when the question asks for several things, to the whole list in its
sentence); prints the items' token F1 against the gold list before and after. It also counts the answerable
questions that `asks_for_list` takes as asking for several things whose own gold span would be changed by
widening: what the rule costs where the reader is already right.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import NEWS_QA, SHARED, write_json  # noqa: E402

CORPUS = SHARED / "eval" / "wikinews-dev" / "corpus.jsonl"
# The items of a gold list: the runs between commas and coordinators.
_ITEM = re.compile(r"[^,]+?(?=,|\s+and\s+|\s+or\s+|$)")


def _items(answer: str) -> list[tuple[int, int]]:
    """(start, end) of each item of a gold list answer, in the answer's offsets."""
    out = []
    for m in _ITEM.finditer(answer):
        item = re.sub(r"^\s*(?:and|or)\s+", "", m.group()).strip()
        if item:
            at = answer.index(item, m.start())
            out.append((at, at + len(item)))
    return out


def run(questions: Path, corpus: Path, part: bool) -> dict:
    """Widen the items of every list answer found in its article; the F1 before and after, and the changes made
    to gold spans of other questions taken as asking for several things."""
    from qa.answer.lists import asks_for_list, list_answer
    from qa.evaluation import token_f1
    from qa.ingest.text import holding_sentences, split_sentences

    texts = {}
    for line in corpus.read_text(encoding="utf-8").splitlines():
        if line.strip():
            record = json.loads(line)
            texts[record["id"]] = record["text"]
    sentences: dict[str, list[tuple[int, int]]] = {}
    before, after, flagged, changed = [], [], 0, []
    for line in questions.read_text(encoding="utf-8").splitlines():
        if not line.strip():
            continue
        q = json.loads(line)
        text = texts.get(q["doc_id"])
        if not q["answers"] or text is None:
            continue
        gold, start = q["answers"][0], q["answer_starts"][0]
        if text[start : start + len(gold)] != gold:
            continue
        spans = sentences.setdefault(q["doc_id"], split_sentences(text))
        if holding_sentences(spans, start, start + len(gold)) is None:
            continue
        if asks_for_list(q["question"]):
            flagged += 1
            if list_answer(q["question"], text, start, start + len(gold), spans) != (start, start + len(gold)):
                changed.append(q["id"])
        if q.get("kind") != "list":
            continue
        for s, e in _items(gold):
            item = gold[s:e]
            if part:
                words = item.split()
                if len(words) < 2:
                    continue
                half = " ".join(words[len(words) // 2 :])
                s, e = s + item.rindex(half), s + item.rindex(half) + len(half)
            span_s, span_e = list_answer(q["question"], text, start + s, start + e, spans)
            before.append(token_f1(gold[s:e], [gold]))
            after.append(token_f1(text[span_s:span_e], [gold]))
    return {
        "questions": str(questions),
        "items": len(before),
        "f1_item": sum(before) / max(1, len(before)),
        "f1_widened": sum(after) / max(1, len(after)),
        "asking_for_several": flagged,
        "gold_spans_changed": len(changed),
        "changed_ids": changed,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--questions", type=Path, default=NEWS_QA, metavar="FILE", help="questions.jsonl with kinds")
    parser.add_argument("--corpus", type=Path, default=CORPUS, metavar="FILE", help="corpus.jsonl of its articles")
    parser.add_argument("--part", action="store_true", help="start from half an item rather than a whole one")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    args = parser.parse_args()
    for path in (args.questions, args.corpus):
        if not path.is_file():
            print(f"error: {path} not found", file=sys.stderr)
            return 2
    result = run(args.questions, args.corpus, args.part)
    write_json("whole_lists.json", result)
    if args.json:
        print(json.dumps(result, indent=2))
        return 0
    print(
        f"{result['items']} items of list answers: token F1 {result['f1_item']:.3f} as one item, "
        f"{result['f1_widened']:.3f} widened; gold spans changed {result['gold_spans_changed']} of "
        f"{result['asking_for_several']} answers to questions asking for several things"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
