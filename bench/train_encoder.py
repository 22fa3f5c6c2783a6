"""Fine-tune the embedding model for questions: by default its question side only (questions are embedded by a
copy of the model trained here, passages stay embedded by the shipped model, so indexes, build speed and index
size do not change); with --both-sides the one model that embeds passages and questions alike.

    python bench/train_encoder.py --out runs/encoder [--squad 120000] [--epochs 1] [--seed 24]
        [--news ../shared/train/news-qa/questions.jsonl --news-repeat 3 --hold-out-fold 0]
        [--paraphrases ../shared/train/paraphrases.jsonl --paraphrase-repeat 2] [--both-sides]

The objective is sentence-transformers' MultipleNegativesRankingLoss (cross-entropy of scaled cosine
similarities, the passage holding the answer against the others) with cached negatives: the passages are
the chunks the index would hold for the paragraphs of the training questions' articles and the Wikinews
articles (this project's chunker, title first), embedded once by the index's own encoder, and every one of
them is a negative for every question. That includes each question's hard negatives: the other paragraphs
of its article and every chunk BM25 ranks high for it. Chunks of the question's own document that also
hold its answer (overlapping chunks) are not counted against it.

With --both-sides the passages change as the model learns, so none is cached: a step embeds its questions,
the passages holding their answers and, for each question, the passage of its article that shares most words
with it without holding the answer (a paragraph of the same Wikipedia article, or another chunk of the same
news story: what retrieval confuses it with); every question is scored against all of these. The dev figure
is then Recall@1 among the passages of the dev articles. An index is built with the result by
`qa index build --model OUT/model`.

The news-qa articles of --hold-out-fold are left out of the passages and the questions, so
`qa eval runs/news-qa/fold-K` measures the model on articles it never saw; --dev questions (whole
articles of the training data) are held out and their Recall@1 among the passages is printed as it trains.
Word embeddings stay frozen (the shipped weights then need only the layers, as for the reader). The run
writes OUT/checkpoint.pt every --save-every steps and resumes from it when started again with the same
OUT; the final model is a sentence-transformers folder in OUT/model.
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import json
import lzma
import math
import random
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import SHARED, news_fold  # noqa: E402
from bench.train_reader import read_jsonl  # noqa: E402


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--out", type=Path, default=None, help="folder for the passage vectors, checkpoint and model")
    ap.add_argument("--base", default=None, help="sentence-transformers folder to start from (default: bundled)")
    ap.add_argument("--train", type=Path, default=SHARED / "train" / "reader-train.jsonl.gz")
    ap.add_argument("--squad", type=int, default=120000, help="answerable reader-train questions to use (at most)")
    ap.add_argument(
        "--paraphrases", type=Path, default=None, help="paraphrases.jsonl: also ask these in people's words"
    )
    ap.add_argument("--paraphrase-repeat", type=int, default=2)
    ap.add_argument("--news", type=Path, default=None, help="news-qa questions.jsonl (articles from --articles)")
    ap.add_argument("--articles", type=Path, default=SHARED / "corpus-extra" / "wikinews-2019-2020.jsonl")
    ap.add_argument("--news-repeat", type=int, default=3)
    ap.add_argument("--hold-out-fold", type=int, default=0, help="news-qa fold left out (-1: none)")
    ap.add_argument("--dev-share", type=float, default=0.02, help="share of training articles held out as dev")
    ap.add_argument("--batch", type=int, default=64, help="questions a step")
    ap.add_argument("--lr", type=float, default=2e-5)
    ap.add_argument("--scale", type=float, default=20.0, help="similarity scale (MultipleNegativesRankingLoss's)")
    ap.add_argument("--warmup", type=int, default=100)
    ap.add_argument("--epochs", type=float, default=1.0)
    ap.add_argument("--minutes", type=float, default=120.0, help="stop training after this long (this run)")
    ap.add_argument("--max-seq-length", type=int, default=64, help="word pieces of a question")
    ap.add_argument(
        "--both-sides",
        action="store_true",
        help="train the passage side too: one model embeds questions and passages (an index is then built with it,\n"
        "--model DIR); each question's negatives are the batch's other passages and, for each question, the\n"
        "passage of its article that shares most words with it without holding the answer",
    )
    ap.add_argument("--passage-length", type=int, default=256, help="word pieces of a passage (--both-sides)")
    ap.add_argument(
        "--write-rows",
        type=Path,
        default=None,
        help="write the prepared pairs (--both-sides: passages, questions, hard negatives) to this .json.xz file\n"
        "and stop; --rows FILE trains on them where neither the data nor the chunker's encoding is at hand",
    )
    ap.add_argument("--rows", type=Path, default=None, help="train (--both-sides) on pairs written by --write-rows")
    ap.add_argument("--save-every", type=int, default=100)
    ap.add_argument("--seed", type=int, default=24)
    ap.add_argument("--device", default="auto", help="cpu, cuda, or auto (cuda where there is one; bfloat16 there)")
    args = ap.parse_args(argv)
    if (args.write_rows or args.rows) and not args.both_sides:
        ap.error("--write-rows and --rows prepare pairs for --both-sides training")
    if args.out is None and args.write_rows is None:
        ap.error("give --out (a run folder to train into) or --write-rows (a file to prepare)")
    return args


def _doc_id(context: str) -> str:
    return "p-" + hashlib.sha1(context.encode()).hexdigest()[:16]


def gather_questions(args: argparse.Namespace) -> tuple[list[dict], list[dict]]:
    """(pool documents, questions): each question {question, doc_id, answers, answer_starts, dev}."""
    rng = random.Random(args.seed)
    with gzip.open(args.train, "rt", encoding="utf-8") as f:
        rows = [r for r in map(json.loads, f) if r["answers"]]
    paraphrases = {p["id"]: p["question"] for p in read_jsonl(args.paraphrases)} if args.paraphrases else {}
    rng.shuffle(rows)
    chosen = [r for r in rows if r["id"] in paraphrases]
    chosen += [r for r in rows if r["id"] not in paraphrases][: max(0, args.squad - len(chosen))]
    chosen = chosen[: args.squad]
    docs: dict[str, dict] = {}
    questions = []
    titles = {r["title"] for r in chosen}
    for r in rows:  # every paragraph of their articles is in the pool: BM25 negatives come from whole articles
        if r["title"] in titles:
            docs.setdefault(_doc_id(r["context"]), {"title": r["title"], "text": r["context"]})
    for r in chosen:
        dev = int(hashlib.sha256(r["title"].encode()).hexdigest()[:8], 16) < args.dev_share * 16**8
        q = {"doc_id": _doc_id(r["context"]), "answers": r["answers"], "answer_starts": r["answer_starts"], "dev": dev}
        questions.append({**q, "question": r["question"]})
        if r["id"] in paraphrases:
            questions += [{**q, "question": paraphrases[r["id"]]}] * args.paraphrase_repeat
    if args.news:
        articles = {a.get("id") or a["doc_id"]: a for a in read_jsonl(args.articles)}
        kept = {i for i in articles if news_fold(i) != args.hold_out_fold}
        for i in sorted(kept):
            docs[i] = {"title": articles[i]["title"], "text": articles[i]["text"]}
        news = [q for q in read_jsonl(args.news) if q["answers"] and q["doc_id"] in kept]
        for q in news:
            questions += [{k: q[k] for k in ("question", "doc_id", "answers", "answer_starts")}] * args.news_repeat
    pool = [{"id": i, **d} for i, d in docs.items()]
    return pool, questions


class PoolChunks:
    """The passages as the index cuts them: each chunk's embedded text, and each document's chunk rows."""

    def __init__(self, pool: list[dict]) -> None:
        from qa.encoders.embedding import Embedder
        from qa.encoders.model_choice import resolve_model
        from qa.indexing.steps import plan_chunks
        from qa.ingest.chunking import ChunkerSettings
        from qa.records import Document

        docs = [Document(d["id"], d["title"], d["text"]) for d in pool]
        plans, self.texts = plan_chunks(docs, ChunkerSettings(), Embedder(resolve_model(None)))
        self.spans: dict[str, list[tuple[int, int, int]]] = {}
        # The rows of each article (a SQuAD article's paragraphs are documents of one title).
        self.of_title: dict[str, list[int]] = {}
        row = 0
        for doc, spans in plans:
            for start, end, _, _ in spans:
                self.spans.setdefault(doc.id, []).append((row, start, end))
                self.of_title.setdefault(doc.title, []).append(row)
                row += 1
        self.title_of = {d["id"]: d["title"] for d in pool}

    def chunk_holding(self, doc_id: str, answer: str, at: int) -> int | None:
        """The row of the chunk of `doc_id` holding the answer `answer` at offset `at`."""
        return next(
            (r for r, start, end in self.spans.get(doc_id, []) if start <= at and at + len(answer) <= end),
            None,
        )

    def also_holding(self, doc_id: str, answers: list[str], positive: int) -> list[int]:
        """The other rows of `doc_id` whose text holds one of the answers (overlapping chunks)."""
        golds = [a.lower() for a in answers]
        return [
            r
            for r, _, _ in self.spans.get(doc_id, [])
            if r != positive and any(g in self.texts[r].lower() for g in golds)
        ]

    def hard_negative(self, question: str, doc_id: str, answers: list[str], skip: set[int]) -> int | None:
        """The row of the question's article that shares most words with it without holding an answer."""
        from bench.train_reader import word_overlap

        golds = [a.lower() for a in answers]
        rows = [
            r
            for r in self.of_title.get(self.title_of.get(doc_id, ""), [])
            if r not in skip and not any(g in self.texts[r].lower() for g in golds)
        ]
        return max(rows, key=lambda r: (word_overlap(question, self.texts[r]), -r), default=None)


def pool_vectors(out: Path, chunks: PoolChunks) -> np.ndarray:
    """The passages' vectors as the index's default encoder makes them (computed once, kept in OUT)."""
    from qa.encoders.embedding import Embedder
    from qa.encoders.model_choice import resolve_model

    key = hashlib.sha256("\n\x00".join(chunks.texts).encode()).hexdigest()[:16]
    path = out / f"passages-{key}.npy"
    if path.is_file():
        return np.load(path)
    vectors = Embedder(resolve_model(None)).encode(chunks.texts, progress=True, desc="embedding passages")
    np.save(path.with_suffix(".tmp.npy"), vectors)
    path.with_suffix(".tmp.npy").replace(path)
    return vectors


def training_rows(chunks: PoolChunks, questions: list[dict]) -> list[dict]:
    """{question, positive row, masked rows} for every question whose answer lies inside one chunk."""
    rows = []
    for q in questions:
        positive = next(
            (
                r
                for a, s in zip(q["answers"], q["answer_starts"])
                if (r := chunks.chunk_holding(q["doc_id"], a, s)) is not None
            ),
            None,
        )
        if positive is not None:  # else the answer straddles two chunks: no passage holds it
            masked = chunks.also_holding(q["doc_id"], q["answers"], positive)
            negative = chunks.hard_negative(q["question"], q["doc_id"], q["answers"], {positive, *masked})
            rows.append(
                {
                    "question": q["question"],
                    "positive": positive,
                    "negative": negative,
                    "masked": masked,
                    "title": chunks.title_of.get(q["doc_id"], ""),
                    "dev": q.get("dev", False),
                }
            )
    return rows


def train(
    args: argparse.Namespace,
    rows: list[dict],
    texts: list[str],
    passages: np.ndarray | None,
    articles: dict[str, list[int]],
) -> Path:
    """Train from --base (or the checkpoint): the question side against the cached `passages` vectors, or with
    --both-sides questions and passages (`texts`; `articles` gives each title's rows) alike; a sentence-transformers
    folder in OUT/model."""
    import torch
    from sentence_transformers import SentenceTransformer

    from qa.encoders.model_choice import resolve_model

    torch.manual_seed(args.seed)
    auto = "cuda" if torch.cuda.is_available() else "cpu"
    device = torch.device(auto if args.device == "auto" else args.device)
    model = SentenceTransformer(str(resolve_model(args.base).path), device=str(device))
    model[0].auto_model.embeddings.word_embeddings.weight.requires_grad_(False)
    params = [p for p in model.parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW(params, lr=args.lr, weight_decay=0.01)
    autocast = torch.autocast(device.type, dtype=torch.bfloat16, enabled=device.type == "cuda")
    train_rows = [r for r in rows if not r["dev"] and (r["negative"] is not None or not args.both_sides)]
    dev_rows = [r for r in rows if r["dev"]]
    rng = random.Random(args.seed + 2)
    order: list[int] = []
    for _ in range(math.ceil(args.epochs)):
        epoch = list(range(len(train_rows)))
        rng.shuffle(epoch)
        order += epoch
    order = order[: int(len(train_rows) * args.epochs)]
    batches = [order[i : i + args.batch] for i in range(0, len(order), args.batch)]
    total = len(batches)
    checkpoint = args.out / "checkpoint.pt"
    step = 0
    if checkpoint.is_file():
        state = torch.load(checkpoint, map_location=device, weights_only=False)
        model.load_state_dict(state["model"])
        optimizer.load_state_dict(state["optimizer"])
        step = state["step"]
        print(f"resumed at step {step}/{total}", flush=True)

    # `preprocess` is what recent sentence-transformers call `tokenize`; older ones have only the latter.
    preprocess = getattr(model, "preprocess", None) or model.tokenize

    def embed(batch_texts: list[str], length: int) -> torch.Tensor:
        model.max_seq_length = length
        features = {k: v.to(device) if hasattr(v, "to") else v for k, v in preprocess(batch_texts).items()}
        with autocast:
            out = model(features)["sentence_embedding"]
        return torch.nn.functional.normalize(out.float(), dim=-1)

    # The passages questions are ranked among: every cached passage, or (both sides) the dev articles' passages
    # for the dev figure, and the batch's own passages in training.
    if passages is not None:
        pool = torch.from_numpy(np.ascontiguousarray(passages, dtype=np.float32)).to(device)
        pool_rows = None
    else:
        pool_rows = sorted({row for r in dev_rows for row in articles.get(r["title"], [])})

    def logits_of(batch: list[dict]) -> tuple[torch.Tensor, torch.Tensor]:
        """The scaled similarities of the batch's questions to their candidate passages, and the right columns."""
        questions = embed([r["question"] for r in batch], args.max_seq_length)
        if passages is not None:
            columns = [r["positive"] for r in batch]
            logits = args.scale * questions @ pool.T
            for i, r in enumerate(batch):
                if r["masked"]:
                    logits[i, r["masked"]] = float("-inf")
            return logits, torch.tensor(columns, device=device)
        candidates = [r["positive"] for r in batch] + [r["negative"] for r in batch]
        logits = args.scale * questions @ embed([texts[c] for c in candidates], args.passage_length).T
        for i, r in enumerate(batch):
            # Another question's passage that is this question's own (or also holds its answer) is no negative.
            same = [j for j, c in enumerate(candidates) if j != i and (c == r["positive"] or c in r["masked"])]
            logits[i, same] = float("-inf")
        return logits, torch.arange(len(batch), device=device)

    def dev_recall() -> float:
        if not dev_rows:
            return float("nan")
        model.eval()
        with torch.no_grad():
            if pool_rows is not None:
                column = {row: n for n, row in enumerate(pool_rows)}
                vectors = torch.cat(
                    [
                        embed([texts[r] for r in pool_rows[i : i + 128]], args.passage_length)
                        for i in range(0, len(pool_rows), 128)
                    ]
                )
            hits = 0
            for i in range(0, len(dev_rows), 256):
                part = dev_rows[i : i + 256]
                if pool_rows is None:
                    logits, right = logits_of(part)
                else:
                    logits = embed([r["question"] for r in part], args.max_seq_length) @ vectors.T
                    for n, r in enumerate(part):
                        logits[n, [column[m] for m in r["masked"]]] = float("-inf")
                    right = torch.tensor([column[r["positive"]] for r in part], device=device)
                hits += int((logits.argmax(dim=1) == right).sum())
        model.train()
        return hits / len(dev_rows)

    def lr_at(s: int) -> float:
        """Warm-up, then linear decay to zero at the last step or at the end of --minutes, whichever comes first."""
        left = min((total - s) / max(1, total - args.warmup), 1 - (time.monotonic() - started) / (args.minutes * 60))
        return args.lr * min(1.0, (s + 1) / args.warmup) * max(0.0, left)

    def save() -> None:
        tmp = checkpoint.with_suffix(".tmp")
        torch.save({"model": model.state_dict(), "optimizer": optimizer.state_dict(), "step": step}, tmp)
        tmp.replace(checkpoint)

    among = f"{len(pool)} passages" if pool_rows is None else f"the dev articles' {len(pool_rows)} passages"
    print(
        f"{len(train_rows)} training questions, {len(dev_rows)} dev, on {device}; "
        f"dev Recall@1 among {among} {dev_recall():.4f}",
        flush=True,
    )
    model.train()
    started, losses = time.monotonic(), []
    while step < total and time.monotonic() - started < args.minutes * 60:
        batch = [train_rows[i] for i in batches[step]]
        for group in optimizer.param_groups:
            group["lr"] = lr_at(step)
        logits, right = logits_of(batch)
        loss = torch.nn.functional.cross_entropy(logits, right)
        optimizer.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, 1.0)
        optimizer.step()
        step += 1
        losses.append(float(loss.detach()))
        if step % 50 == 0 or step == total:
            rate = (time.monotonic() - started) / len(losses)
            print(f"step {step}/{total} loss {sum(losses[-50:]) / len(losses[-50:]):.4f} {rate:.2f} s/step", flush=True)
        if step % args.save_every == 0:
            save()
            print(f"step {step}: dev Recall@1 {dev_recall():.4f}", flush=True)
    save()
    print(f"step {step}/{total}: dev Recall@1 {dev_recall():.4f}", flush=True)
    model.eval()
    model.max_seq_length = args.passage_length if args.both_sides else args.max_seq_length
    target = args.out / "model"
    model.save(str(target))
    print(f"saved {target} at step {step}/{total}", flush=True)
    return target


def write_pairs(path: Path, texts: list[str], rows: list[dict], articles: dict[str, list[int]]) -> None:
    """The passages that rows name (every passage of a dev article too), renumbered, with the rows, as .json.xz."""
    dev_titles = {r["title"] for r in rows if r["dev"]}
    used = {r["positive"] for r in rows} | {m for r in rows for m in r["masked"]}
    used |= {r["negative"] for r in rows if r["negative"] is not None}
    used |= {row for title in dev_titles for row in articles.get(title, [])}
    number = {old: new for new, old in enumerate(sorted(used))}
    renumbered = [
        {
            **r,
            "positive": number[r["positive"]],
            "negative": None if r["negative"] is None else number[r["negative"]],
            "masked": [number[m] for m in r["masked"]],
        }
        for r in rows
    ]
    kept = {t: [number[row] for row in rs if row in number] for t, rs in articles.items() if t in dev_titles}
    data = {"texts": [texts[old] for old in sorted(used)], "rows": renumbered, "articles": kept}
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    with lzma.open(tmp, "wt", encoding="utf-8") as f:
        json.dump(data, f, ensure_ascii=False)
    tmp.replace(path)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.rows:
        with lzma.open(args.rows, "rt", encoding="utf-8") as f:
            data = json.load(f)
        args.out.mkdir(parents=True, exist_ok=True)
        train(args, data["rows"], data["texts"], None, data["articles"])
        return 0
    if args.out is not None:
        args.out.mkdir(parents=True, exist_ok=True)
    pool, questions = gather_questions(args)
    chunks = PoolChunks(pool)
    passages = None if args.both_sides else pool_vectors(args.out, chunks)
    rows = training_rows(chunks, questions)
    if args.write_rows:
        write_pairs(args.write_rows, chunks.texts, rows, chunks.of_title)
        print(f"wrote {len(rows)} pairs to {args.write_rows} ({args.write_rows.stat().st_size / 1e6:.1f} MB)")
        return 0
    train(args, rows, chunks.texts, passages, chunks.of_title)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
