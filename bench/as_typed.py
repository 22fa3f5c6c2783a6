"""Questions as people type them: copies an evaluation set with a typing slip in every question, or with what
people type before a question ("Hi!", "Quick question:", "I saw a report about this.") or after it ("Thanks!").

    python bench/as_typed.py SET_DIR OUT_DIR [--lead-ins | --trailers] [--seed N] [--json]
    qa eval OUT_DIR --json

A slip falls in a word of five letters or more that is not a question or function word, inside it (never its
first letter or last two): two letters swapped, one left out, one doubled or one changed, each a quarter of the
time. With --lead-ins, each question gets one of LEAD_INS before it instead (lower-cased after a greeting's
comma or colon); with --trailers, one of TRAILERS after it. Seeded, so the copy is the same on every machine. OUT_DIR gets `questions.jsonl` and a link to
(or, where links are not allowed, a copy of) the set's `corpus.jsonl`, so `qa eval` reuses the set's index.
"""

from __future__ import annotations

import argparse
import json
import random
import re
import shutil
import sys
from pathlib import Path

_CANDIDATE = re.compile(r"[A-Za-z]{5,}")
_PLAIN = frozenset(
    "which whose where about there their these those would could should after before during under".split()
)
SLIPS = ("swap", "drop", "double", "change")
LEAD_INS = (
    "Quick question: ",
    "Hi! ",
    "Hello, ",
    "Hey, ",
    "Question: ",
    "I was reading the news today. ",
    "I saw a report about this. ",
)
TRAILERS = (" Thanks!", " Thank you.", " I could not find it.", " thx", " Cheers.", " Just curious.")
_REPLACEMENTS = "aeiourstnl"


def slipped_word(word: str, rng: random.Random) -> str:
    """`word` with one slip inside it (not on its first letter or last two)."""
    i = rng.randrange(1, len(word) - 2)
    kind = rng.choice(SLIPS)
    if kind == "swap":
        return word[:i] + word[i + 1] + word[i] + word[i + 2 :]
    if kind == "drop":
        return word[:i] + word[i + 1 :]
    if kind == "double":
        return word[:i] + word[i] + word[i:]
    return word[:i] + rng.choice(_REPLACEMENTS.replace(word[i].lower(), "")) + word[i + 1 :]


def slipped_question(question: str, rng: random.Random) -> str:
    """The question with a slip in one of its longer content words (unchanged when it has none)."""
    words = [m for m in _CANDIDATE.finditer(question) if m.group().lower() not in _PLAIN]
    if not words:
        return question
    m = rng.choice(words)
    return question[: m.start()] + slipped_word(m.group(), rng) + question[m.end() :]


def with_lead_in(question: str, rng: random.Random) -> str:
    """The question after one of LEAD_INS."""
    lead = rng.choice(LEAD_INS)
    if lead.endswith((", ", ": ")):
        return lead + question[0].lower() + question[1:]
    return lead + question


def typed(question: str, how: str, rng: random.Random) -> str:
    """The question typed with a slip, a lead-in or a trailer (`how`)."""
    if how == "lead-ins":
        return with_lead_in(question, rng)
    if how == "trailers":
        return question + rng.choice(TRAILERS)
    return slipped_question(question, rng)


def copy_as_typed(set_dir: Path, out_dir: Path, seed: int, how: str = "slips") -> dict:
    """Write the copy of the set, each question typed `how` (slips, lead-ins or trailers); how many questions it
    holds and how many changed."""
    rng = random.Random(seed)
    out_dir.mkdir(parents=True, exist_ok=True)
    corpus = out_dir / "corpus.jsonl"
    if not corpus.exists():
        try:
            corpus.symlink_to((set_dir / "corpus.jsonl").resolve())
        except OSError:
            shutil.copyfile(set_dir / "corpus.jsonl", corpus)
    records = [json.loads(line) for line in (set_dir / "questions.jsonl").read_text(encoding="utf-8").splitlines()]
    changed = 0
    with open(out_dir / "questions.jsonl", "w", encoding="utf-8") as out:
        for r in records:
            question = typed(r["question"], how, rng)
            changed += question != r["question"]
            out.write(json.dumps({**r, "question": question}, ensure_ascii=False) + "\n")
    return {
        "set": str(set_dir),
        "out": str(out_dir),
        "questions": len(records),
        "changed": changed,
        "typed_with": how,
        "seed": seed,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("set_dir", type=Path, metavar="SET_DIR", help="a set with corpus.jsonl and questions.jsonl")
    parser.add_argument("out_dir", type=Path, metavar="OUT_DIR", help="where the copy is written")
    how = parser.add_mutually_exclusive_group()
    how.add_argument("--lead-ins", action="store_true", help="a lead-in before each question instead of a slip")
    how.add_argument("--trailers", action="store_true", help="a remark after each question instead of a slip")
    parser.add_argument("--seed", type=int, default=7, help="which slips, lead-ins or remarks (default 7)")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    args = parser.parse_args()
    for name in ("corpus.jsonl", "questions.jsonl"):
        if not (args.set_dir / name).is_file():
            print(f"as_typed: {args.set_dir} has no {name}; give an evaluation set's folder", file=sys.stderr)
            return 2
    how = "lead-ins" if args.lead_ins else "trailers" if args.trailers else "slips"
    result = copy_as_typed(args.set_dir, args.out_dir, args.seed, how)
    if args.json:
        print(json.dumps(result))
    else:
        print(
            f"{result['changed']} of {result['questions']} questions typed with {result['typed_with']} in {args.out_dir}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
