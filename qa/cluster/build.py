"""Building a sharded index on a Ray cluster (the optional `cluster` extra).

Ray Data reads the corpus files on the workers, then chunks and embeds the documents in a pool of
actors (one encoder each, on one core); each batch leaves its chunks and vectors in the index's work
folder, one part file per shard, and one Ray actor per shard (started with the build) writes that
shard from its parts. The work folder must be one every node sees (a shared file system). The
driver publishes the shards as one generation only when all are written, so a failed build leaves
the live index as it was.
"""

from __future__ import annotations

import json
import logging
import os
import pickle
import shutil
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import numpy as np

from qa.cluster.connection import connect, import_ray, task_error
from qa.encoders.embedding import Embedder
from qa.encoders.model_choice import resolve_model
from qa.errors import ClusterError, CorpusError, QAError
from qa.indexing.shard_build import encode_chunks, shard_embedder, write_shard
from qa.indexing.steps import BuildReport, check_target, new_manifest, plan_chunks
from qa.ingest.chunking import ChunkerSettings
from qa.ingest.corpus import iter_corpus_files, load_file
from qa.ingest.documents import LoadReport, SkippedFile
from qa.progress import progress_bar
from qa.records import Document
from qa.store.generations import Manifest, current_generation, new_workdir, publish, write_lock
from qa.store.shards import check_shard_count, shard_manifests, shard_name, shard_of, write_shard_set

# Documents per batch handed to an embedding actor (about 70 chunks of news): the encoder's cost per
# chunk is the same from a few dozen chunks on, and small batches leave no actor long alone at the end.
DOCS_PER_BATCH = 8
# Corpus files read by one reading task.
FILES_PER_READ = 8
# Subfolder of the work folder where embedding actors leave their results for the shard writers.
PARTS = "parts"


# ---------------------------------------------------------------- build


def _read_files(batch: dict[str, np.ndarray]) -> dict[str, list]:
    """Ray Data: the documents of some corpus files, one row each, and one row per file or record skipped."""
    rows: dict[str, list] = {"file": [], "rec": [], "doc": [], "skip": [], "path": []}

    def add(file: int, rec: int, doc: str, skip: str, path: str) -> None:
        for key, value in zip(rows, (file, rec, doc, skip, path)):
            rows[key].append(value)

    for path, doc_id, file in zip(batch["path"], batch["doc_id"], batch["file"]):
        report = LoadReport()
        for i, d in enumerate(load_file(Path(str(path)), str(doc_id), report)):
            add(int(file), i, json.dumps(_doc_fields(d), ensure_ascii=False), "", "")
        for s in report.skipped:
            add(int(file), -1, "", s.reason, str(s.path))
    return rows


def _doc_fields(doc: Document) -> dict[str, Any]:
    return {k: getattr(doc, k) for k in ("id", "title", "text", "source", "published", "url", "meta")}


def _parts_dir(work: Path, shard: int) -> Path:
    return work / PARTS / shard_name(shard)


class ChunkAndEmbed:
    """Ray Data actor: chunks documents, embeds the chunks with the one encoder it loads, and leaves the
    results in the shared work folder as one part file per shard (only counts go back to the driver)."""

    def __init__(self, template: str, shards: int, work: str) -> None:
        self.template = Manifest(**json.loads(template))
        self.shards = shards
        self.work = Path(work)
        self.settings = ChunkerSettings(**self.template.chunker)
        # Loaded now, while the first files are read, rather than in the first batch.
        self.embedder = shard_embedder(self.template).load()

    def __call__(self, batch: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        keep = [i for i, skip in enumerate(batch["skip"]) if not skip]
        docs = [Document(**json.loads(batch["doc"][i])) for i in keep]
        plans, texts = plan_chunks(docs, self.settings, self.embedder)
        # One core per actor: the pool, not the encoder, spreads the work over the cores.
        vectors = encode_chunks(self.embedder, texts, parallel=False)
        parts: dict[int, list] = {}
        chunks = np.zeros(len(batch["doc"]), dtype=np.int64)
        row = 0
        for i, doc, (_, spans) in zip(keep, docs, plans):
            order = (int(batch["file"][i]), int(batch["rec"][i]))
            parts.setdefault(shard_of(doc.id, self.shards), []).append(
                (order, doc, spans, vectors[row : row + len(spans)])
            )
            chunks[i] = len(spans)
            row += len(spans)
        for shard, items in parts.items():
            folder = _parts_dir(self.work, shard)
            folder.mkdir(parents=True, exist_ok=True)
            # Named after its first document, so a batch run again after a failure replaces its own part.
            name = "{:09d}-{:09d}.pkl".format(*items[0][0])
            tmp = folder / f".{name}.{os.getpid()}.tmp"
            with open(tmp, "wb") as f:
                pickle.dump(items, f, protocol=pickle.HIGHEST_PROTOCOL)
            os.replace(tmp, folder / name)
        return {
            "documents": np.array([0 if skip else 1 for skip in batch["skip"]], dtype=np.int64),
            "chunks": chunks,
            "skip": batch["skip"],
            "path": batch["path"],
        }


class ShardWriter:
    """Ray actor writing one shard from its part files; started during the embedding, so its process is
    up and its modules imported by the time the last batch is embedded."""

    def write(self, work: str, shard: int, template: str) -> int:
        """Write shard number `shard` in the work folder; its documents."""
        return write_shard_from_parts(work, shard, template)


def write_shard_from_parts(work: str, shard: int, template: str) -> int:
    """Gather one shard's part files from the shared work folder and write the shard; its documents."""
    manifest = Manifest(**json.loads(template))
    folder = _parts_dir(Path(work), shard)
    latest: dict[str, tuple] = {}
    for part in sorted(folder.glob("*.pkl")) if folder.is_dir() else []:
        with open(part, "rb") as f:
            for order, doc, spans, vectors in pickle.load(f):
                # A later file (or record) with the same id replaces an earlier one, as in a local build.
                if doc.id not in latest or order > latest[doc.id][0]:
                    latest[doc.id] = (order, doc, spans, vectors)
    items = sorted(latest.values(), key=lambda item: item[0])
    plans = [(doc, spans) for _, doc, spans, _ in items]
    vectors = np.concatenate([v for *_, v in items]) if items else np.zeros((0, manifest.dimension), dtype="float32")
    target = Path(work) / shard_name(shard)
    # A write run again (its node lost) starts afresh; the parts stay until every shard is written.
    shutil.rmtree(target, ignore_errors=True)
    return write_shard(target, shard, manifest, plans, vectors).documents


def _stop(ray, actors: list) -> None:
    for actor in actors:
        try:
            ray.kill(actor)
        except Exception:  # noqa: BLE001 - its node, or the cluster, may be gone already
            pass


def build_on_ray(
    corpus: str | Path | Iterable[str | Path],
    index_dir: str | Path,
    address: str,
    shards: int | None = None,
    model: str | None = None,
    settings: ChunkerSettings = ChunkerSettings(),
    progress: bool = False,
    encoder: str | None = None,
    workers: int | None = None,
) -> BuildReport:
    """Build a sharded index of `corpus` on the Ray cluster at `address`, replacing `index_dir` atomically.

    `shards` defaults to one per node, `workers` (embedding actors, one core each) to the cluster's cores.
    The corpus and `index_dir` must be at the same paths on every node."""
    t0 = time.perf_counter()
    import_ray()  # before any work: without Ray, say at once what to install
    index_dir = Path(index_dir).resolve()
    paths = [corpus] if isinstance(corpus, (str, Path)) else list(corpus)
    if not paths:
        raise CorpusError("no corpus given; name a folder or files of articles")
    check_target(index_dir)
    files = [
        {"path": str(p.resolve()), "doc_id": doc_id, "file": i}
        for i, (p, doc_id) in enumerate(iter_corpus_files(paths))
    ]
    if not files:
        raise CorpusError(f"no article files in {', '.join(map(str, paths))} (looked for .txt .md .html .json .jsonl)")
    template = new_manifest(Embedder(resolve_model(model), encoder), settings)
    ray = connect(address)
    import ray.data  # noqa: F811 - the same module, with its data library loaded

    nodes = [n for n in ray.nodes() if n.get("Alive")]
    shards = check_shard_count(shards if shards is not None else max(1, len(nodes)))
    if workers is None:
        workers = max(1, int(ray.cluster_resources().get("CPU", 1)))
    context = ray.data.DataContext.get_current()
    context.enable_progress_bars = False  # one bar of documents and chunks instead of one per stage
    logging.getLogger("ray.data").setLevel(logging.WARNING)  # its per-run INFO lines, not problems
    # Its warning that the bars above are off: they are, on purpose.
    logging.getLogger("ray.data._internal.progress").setLevel(logging.ERROR)
    template_json = json.dumps(template.__dict__)
    skipped: list[SkippedFile] = []
    with write_lock(index_dir):
        work = new_workdir(index_dir)
        # A live bar on a terminal; in a log, a plain line now and then (not a line of carriage returns).
        bar = progress_bar(desc="documents embedded across the cluster", unit="doc") if progress else None
        writers: list = []
        try:
            # One writer per shard, spread over the nodes; no core reserved: it works once the actors are done.
            writer = ray.remote(ShardWriter).options(
                num_cpus=0, scheduling_strategy="SPREAD", max_restarts=1, max_task_retries=1
            )
            # Read on the workers, then chunk and embed in the actor pool; results go to the shared folder.
            counts = (
                ray.data.from_items(files)
                .map_batches(_read_files, batch_size=FILES_PER_READ)
                # Blocks of one batch each, cut in the reading task: a file of many records (one JSONL
                # corpus) would otherwise reach one actor as one block, and the others would wait.
                .repartition(target_num_rows_per_block=DOCS_PER_BATCH)
                .map_batches(
                    ChunkAndEmbed,
                    fn_constructor_args=(template_json, shards, str(work)),
                    batch_size=DOCS_PER_BATCH,
                    # A pool that may shrink: losing a node slows the build down instead of stalling it.
                    compute=ray.data.ActorPoolStrategy(min_size=1, max_size=workers),
                    # No core reserved: the pool's size (at most `workers`, spread over the nodes) keeps
                    # one encoder per core. An actor holding a core would starve the reading tasks of a
                    # node left with one core after another is lost: the build then stalled for good.
                    num_cpus=0,
                )
            )
            docs = chunks = 0
            for row in counts.iter_rows():
                if not writers:
                    # Started once the first batch is embedded: a node starts only a few worker processes
                    # at a time, and writers idle until the end must not hold up the embedding actors.
                    writers = [writer.remote() for _ in range(shards)]
                if row["skip"]:
                    skipped.append(SkippedFile(row["path"], row["skip"]))
                docs += int(row["documents"])
                chunks += int(row["chunks"])
                if bar is not None:
                    bar.update(int(row["documents"]))
                    bar.set_postfix(chunks=chunks)
            if not docs:
                raise CorpusError(
                    f"no readable articles in {', '.join(map(str, paths))} ({len(skipped)} files or records skipped)"
                )
            ray.get([w.write.remote(str(work), shard, template_json) for shard, w in enumerate(writers)])
            shutil.rmtree(work / PARTS, ignore_errors=True)
            write_shard_set(work, shards)
            publish(index_dir, work)
        except QAError:
            shutil.rmtree(work, ignore_errors=True)
            raise
        except Exception as exc:
            shutil.rmtree(work, ignore_errors=True)
            cause = task_error(exc)
            if isinstance(cause, QAError):
                raise cause from exc
            first = str(exc).strip().splitlines()[0][:300] if str(exc).strip() else type(exc).__name__
            raise ClusterError(
                f"the build failed on the cluster ({first}); the index at {index_dir} is unchanged"
            ) from exc
        except BaseException:
            shutil.rmtree(work, ignore_errors=True)
            raise
        finally:
            _stop(ray, writers)
            if bar is not None:
                bar.close()
    manifests = shard_manifests(current_generation(index_dir))
    return BuildReport.of(
        index_dir,
        manifests,
        t0,
        added=sum(m.documents for m in manifests),
        embedded_chunks=chunks,
        skipped=tuple(skipped),
    )
