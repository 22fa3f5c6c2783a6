"""Fine-tune the question side of the embedding model: questions are embedded by a copy of the model trained
here, passages stay embedded by the shipped model, so indexes, build speed and index size do not change.

    python bench/train_encoder.py --out runs/encoder [--squad 120000] [--epochs 1] [--seed 24]
        [--news ../shared/train/news-qa/questions.jsonl --news-repeat 3 --hold-out-fold 0]
        [--paraphrases ../shared/train/paraphrases.jsonl --paraphrase-repeat 2]

The objective is sentence-transformers' MultipleNegativesRankingLoss (cross-entropy of scaled cosine
similarities, the passage holding the answer against the others) with cached negatives: the passages are
the chunks the index would hold for the paragraphs of the training questions' articles and the Wikinews
articles (this project's chunker, title first), embedded once by the index's own encoder, and every one of
them is a negative for every question. That includes each question's hard negatives: the other paragraphs
of its article and every chunk BM25 ranks high for it. Chunks of the question's own document that also
hold its answer (overlapping chunks) are not counted against it.

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
    ap.add_argument("--out", type=Path, required=True, help="folder for the passage vectors, checkpoint and model")
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
    ap.add_argument("--save-every", type=int, default=100)
    ap.add_argument("--seed", type=int, default=24)
    return ap.parse_args(argv)


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
        from qa.encoders.models import resolve_model
        from qa.indexing.steps import plan_chunks
        from qa.ingest.chunking import ChunkerSettings
        from qa.records import Document

        docs = [Document(d["id"], d["title"], d["text"]) for d in pool]
        plans, self.texts = plan_chunks(docs, ChunkerSettings(), Embedder(resolve_model(None)))
        self.spans: dict[str, list[tuple[int, int, int]]] = {}
        row = 0
        for doc, spans in plans:
            for start, end, _, _ in spans:
                self.spans.setdefault(doc.id, []).append((row, start, end))
                row += 1

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


def pool_vectors(out: Path, chunks: PoolChunks) -> np.ndarray:
    """The passages' vectors as the index's default encoder makes them (computed once, kept in OUT)."""
    from qa.encoders.embedding import Embedder
    from qa.encoders.models import resolve_model

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
            rows.append({"question": q["question"], "positive": positive, "masked": masked, "dev": q.get("dev", False)})
    return rows


def train(args: argparse.Namespace, rows: list[dict], passages: np.ndarray) -> Path:
    """Train the question encoder from --base (or the checkpoint); a sentence-transformers folder in OUT/model."""
    import torch
    from sentence_transformers import SentenceTransformer

    from qa.encoders.models import resolve_model

    torch.manual_seed(args.seed)
    model = SentenceTransformer(str(resolve_model(args.base).path), device="cpu")
    model.max_seq_length = args.max_seq_length
    model[0].auto_model.embeddings.word_embeddings.weight.requires_grad_(False)
    params = [p for p in model.parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW(params, lr=args.lr, weight_decay=0.01)
    pool = torch.from_numpy(np.ascontiguousarray(passages, dtype=np.float32))
    train_rows = [r for r in rows if not r["dev"]]
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
        state = torch.load(checkpoint, map_location="cpu", weights_only=False)
        model.load_state_dict(state["model"])
        optimizer.load_state_dict(state["optimizer"])
        step = state["step"]
        print(f"resumed at step {step}/{total}", flush=True)

    def logits_of(batch: list[dict]) -> torch.Tensor:
        features = model.preprocess([r["question"] for r in batch])
        emb = torch.nn.functional.normalize(model(features)["sentence_embedding"], dim=-1)
        logits = args.scale * emb @ pool.T
        for i, r in enumerate(batch):
            if r["masked"]:
                logits[i, r["masked"]] = float("-inf")
        return logits

    def dev_recall() -> float:
        if not dev_rows:
            return float("nan")
        model.eval()
        with torch.no_grad():
            hits = sum(
                int(
                    (
                        logits_of(dev_rows[i : i + 256]).argmax(dim=1)
                        == torch.tensor([r["positive"] for r in dev_rows[i : i + 256]])
                    ).sum()
                )
                for i in range(0, len(dev_rows), 256)
            )
        model.train()
        return hits / len(dev_rows)

    def lr_at(s: int) -> float:
        return args.lr * min(1.0, (s + 1) / args.warmup) * max(0.0, (total - s) / max(1, total - args.warmup))

    def save() -> None:
        tmp = checkpoint.with_suffix(".tmp")
        torch.save({"model": model.state_dict(), "optimizer": optimizer.state_dict(), "step": step}, tmp)
        tmp.replace(checkpoint)

    print(
        f"{len(train_rows)} training questions, {len(dev_rows)} dev, {len(pool)} passages; dev Recall@1 {dev_recall():.4f}",
        flush=True,
    )
    model.train()
    started, losses = time.monotonic(), []
    while step < total and time.monotonic() - started < args.minutes * 60:
        batch = [train_rows[i] for i in batches[step]]
        for group in optimizer.param_groups:
            group["lr"] = lr_at(step)
        loss = torch.nn.functional.cross_entropy(logits_of(batch), torch.tensor([r["positive"] for r in batch]))
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
    target = args.out / "model"
    model.save(str(target))
    print(f"saved {target} at step {step}/{total}", flush=True)
    return target


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    pool, questions = gather_questions(args)
    chunks = PoolChunks(pool)
    passages = pool_vectors(args.out, chunks)
    rows = training_rows(chunks, questions)
    train(args, rows, passages)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
