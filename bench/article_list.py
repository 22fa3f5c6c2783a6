"""The web app's article list on an index of many documents: one page read by SQLite against the whole list.

    python bench/article_list.py [--documents 40000] [--shards 4] [--repeat 5] [--json]

Builds the repo's corpus for real, then adds --documents copies of its article (each under its own id, title,
source and date, with one passage whose vector is the real one plus noise: the list never reads vectors),
and times, as the median of --repeat runs with the index loaded:
- first page: what the Articles tab renders on start-up and on each page turn, the old way (`Index.documents()`,
  every row, then its first 50) and the new (`Index.documents_page`);
- a search (title, source or id containing a word) and the last page;
- the articles example questions are made from: the newest 12.
With --shards, the same index split into that many shards is timed again.
Figures are printed and saved to bench/results/article_list.json.
"""

from __future__ import annotations

import argparse
import json
import random
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import ROOT, machine, write_json  # noqa: E402

PAGE = 50
TOWNS = ["Quillby", "Altmoor", "Westshire", "Brindlewood", "Harbourne", "Lindow", "Porto", "Tessel"]
TOPICS = ["harbour", "railway", "vaccine", "election", "drought", "museum", "satellite", "strike"]


def make_index(folder: Path, documents: int) -> None:
    """The repo's corpus built for real, then `documents` copies of its article added in one generation."""
    import numpy as np

    from qa.indexing.build import build_index
    from qa.ingest.documents import content_hash
    from qa.records import Document
    from qa.store.generations import Store, copy_store, current_generation, new_workdir, publish

    build_index(ROOT / "corpus", folder)
    gen = current_generation(folder)
    real = Store(gen)
    doc_id = real.documents()[0]["id"]
    doc = real.document(doc_id)
    start, end, n_tokens, terms, chunk_id = (
        real.connection()
        .execute("SELECT start, end, n_tokens, terms, id FROM chunks WHERE doc_id = ? ORDER BY id LIMIT 1", (doc_id,))
        .fetchone()
    )
    vector = real.vectors.reconstruct(int(chunk_id))
    real.close()
    rng, order = np.random.default_rng(0), random.Random(0)
    work = new_workdir(folder)
    store = copy_store(gen, work)
    conn = store.connection()
    conn.execute("BEGIN")
    for i in range(documents):
        town, topic = order.choice(TOWNS), order.choice(TOPICS)
        clone = Document(
            id=f"{town.lower()}/{i:07d}",
            title=f"{town} {topic} report {i}",
            text=doc.text,
            source=f"{town.lower()}-news.example",
            published=f"{2015 + i % 10}-{1 + i % 12:02d}-{1 + i % 28:02d}",
        )
        noisy = vector + rng.normal(0, 0.02, vector.shape).astype("float32")
        store.upsert(clone, content_hash(clone), [(start, end, n_tokens, terms)], (noisy / np.linalg.norm(noisy))[None])
    conn.execute("COMMIT")
    store.finish()
    publish(folder, work)


def median_ms(fn: Callable[[], object], repeat: int) -> float:
    fn()  # the first call pays for opening connections and warming the page cache
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times) * 1000


def time_list(index_dir: Path, repeat: int) -> dict:
    """Milliseconds of each way of reading the list, on the index in `index_dir`."""
    from qa.index import load_index
    from qa.ui.render import corpus_panel

    idx = load_index(index_dir)
    total = idx.manifest.documents

    def old_first_page() -> str:
        rows = idx.documents()
        return corpus_panel(rows[:PAGE], len(rows))

    def new_first_page() -> str:
        rows, n = idx.documents_page("", 0, PAGE)
        return corpus_panel(rows, n)

    figures = {
        "documents": total,
        "chunks": idx.manifest.chunks,
        "shards": idx.stats()["shards"],
        "first_page_whole_list_ms": median_ms(old_first_page, repeat),
        "first_page_ms": median_ms(new_first_page, repeat),
        "search_first_page_ms": median_ms(lambda: idx.documents_page("brindlewood", 0, PAGE), repeat),
        "last_page_ms": median_ms(lambda: idx.documents_page("", total - PAGE, PAGE), repeat),
        "example_articles_whole_list_ms": median_ms(lambda: idx.documents()[:12], repeat),
        "example_articles_ms": median_ms(lambda: idx.documents_page(limit=12), repeat),
    }
    assert idx.documents_page("", 0, PAGE)[0] == idx.documents()[:PAGE], "both ways show the same first page"
    idx.close()
    return figures


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--documents", type=int, default=40_000, help="documents added to the index (default: 40000)")
    ap.add_argument("--shards", type=int, default=4, help="also time the index split in this many shards (0: not)")
    ap.add_argument("--repeat", type=int, default=5, help="timed runs of each figure (default: 5)")
    ap.add_argument("--json", action="store_true", help="print the JSON instead of the table")
    args = ap.parse_args()
    from qa.indexing.shard_build import reshard_index

    with tempfile.TemporaryDirectory(prefix="qa-article-list-") as tmp:
        one = Path(tmp) / "index"
        t = time.perf_counter()
        make_index(one, args.documents)
        built = f"built an index of {args.documents + 1} documents in {time.perf_counter() - t:.0f}s"
        print(built, file=sys.stderr, flush=True)
        runs = [time_list(one, args.repeat)]
        if args.shards > 1:
            sharded = Path(tmp) / "sharded"
            shutil.copytree(one, sharded)
            reshard_index(sharded, args.shards)
            runs.append(time_list(sharded, args.repeat))
    result = {"machine": machine(), "runs": runs}
    path = write_json("article_list.json", result)
    if args.json:
        print(json.dumps(result, indent=2))
        return 0
    print(f"{'index':<22}{'whole list':>12}{'one page':>10}{'search':>9}{'last page':>11}{'12 newest':>11}  (ms)")
    for r in runs:
        name = f"{r['documents']} docs, {r['shards']} shard{'s' if r['shards'] > 1 else ''}"
        print(
            f"{name:<22}{r['first_page_whole_list_ms']:>12.1f}{r['first_page_ms']:>10.1f}"
            f"{r['search_first_page_ms']:>9.1f}{r['last_page_ms']:>11.1f}{r['example_articles_ms']:>11.1f}"
        )
    print(f"saved {path.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
