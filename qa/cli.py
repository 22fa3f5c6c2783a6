"""The `qa` command: build and update indexes, ask questions, evaluate, serve the web app."""

from __future__ import annotations

import argparse
import json
import logging
import sys
from collections.abc import Sequence
from pathlib import Path

from qa.encoders.embedding import ENCODERS
from qa.errors import QAError, describe_os_error
from qa.ui.render import one_line

DEFAULT_INDEX = "index"
DEFAULT_CORPUS = "corpus"


class _Parser(argparse.ArgumentParser):
    """Usage errors print one line and the hint to use --help, exit code 2."""

    def error(self, message: str) -> None:  # type: ignore[override]
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def _index_arg(p: argparse.ArgumentParser) -> None:
    p.add_argument("--index", default=DEFAULT_INDEX, metavar="DIR", help=f"index folder (default: {DEFAULT_INDEX})")


def _ray_arg(p: argparse.ArgumentParser, what: str) -> None:
    p.add_argument(
        "--ray",
        default=None,
        metavar="ADDRESS",
        help=f"{what}; ADDRESS is `auto` (join the running cluster), `local` (start one here) or host:port "
        '(needs pip install -e ".[cluster]")',
    )


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="qa",
        description="Question answering over news articles, with answers backed by cited spans.",
        epilog='Start with `qa index build corpus`, then `qa ask "your question"`.',
    )
    parser.add_argument("-q", "--quiet", action="store_true", help="no progress bars or warnings")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)

    index = sub.add_parser("index", help="build, update and inspect the index", description="Manage the index.")
    isub = index.add_subparsers(dest="index_command", metavar="ACTION", parser_class=_Parser)

    b = isub.add_parser(
        "build",
        help="build the index from scratch",
        description="Read every article under CORPUS (folders, files: .txt .md .html .json .jsonl .rss .atom .xml .pdf, "
        "or http(s) URLs of web pages), "
        "chunk and embed it, and replace the index atomically: readers keep the old index until the new one is complete.",
    )
    b.add_argument(
        "corpus",
        nargs="*",
        default=[DEFAULT_CORPUS],
        metavar="CORPUS",
        help=f"folders, files or URLs of articles (default: {DEFAULT_CORPUS})",
    )
    _index_arg(b)
    b.add_argument(
        "--model",
        metavar="NAME_OR_PATH",
        default=None,
        help="a local sentence-transformers model folder (default: the package's own encoder where one ships in "
        "qa/models/encoder, else the bundled all-MiniLM-L6-v2; an index keeps the model it was built with)",
    )
    b.add_argument("--max-tokens", type=int, default=None, metavar="N", help="chunk budget in tokens (default: 160)")
    b.add_argument(
        "--encoder",
        choices=ENCODERS,
        default=None,
        help="what embeds the chunks: ONNX Runtime int8 (default, fastest), float32, or torch; "
        "questions and later additions use the same one",
    )

    b.add_argument(
        "--shards",
        type=int,
        default=None,
        metavar="N",
        help="split the index into N shards (by a hash of each article's id), built in parallel processes, "
        "or by Ray workers with --ray; searched in parallel and ranked exactly as one index",
    )
    _ray_arg(b, "build on a Ray cluster: Ray Data chunks and embeds on every node's workers")

    a = isub.add_parser(
        "add",
        help="add or update articles without a rebuild",
        description="Add articles, or update those whose id (path relative to the folder given, "
        "or json `id`, or the URL) is already indexed. Unchanged articles are not embedded again. "
        "A URL is fetched (HTML pages only, 10 s, 5 MB, redirects within its host) and its article extracted.",
    )
    a.add_argument("paths", nargs="+", metavar="PATH", help="article files or folders, or http(s) URLs of web pages")
    _index_arg(a)

    r = isub.add_parser("remove", help="remove articles by id", description="Remove articles by document id.")
    r.add_argument("doc_ids", nargs="+", metavar="DOC_ID", help="document ids (see `qa index stats --documents`)")
    _index_arg(r)

    rs = isub.add_parser(
        "reshard",
        help="split the index into shards, or join them, without embedding again",
        description="Rewrite the index as N shards (1 joins a sharded index into one), moving documents, "
        "chunks and vectors as they are; readers keep the old index until the new one is complete.",
    )
    rs.add_argument("--shards", type=int, required=True, metavar="N", help="number of shards (1: unsharded)")
    _index_arg(rs)

    s = isub.add_parser(
        "stats", help="show what the index holds", description="Counts, model and settings of the index."
    )
    _index_arg(s)
    s.add_argument("--json", action="store_true", help="print one JSON object")
    s.add_argument("--documents", action="store_true", help="also list every document with its id")

    ask = sub.add_parser(
        "ask",
        help="answer a question with cited spans",
        description="Answer QUESTION from the index with a short answer and numbered citations. "
        "Without QUESTION, read questions from standard input, one a line; each is a follow-up of the previous ones.",
    )
    ask.add_argument("question", nargs="?", help="the question (omit to read from standard input)")
    _index_arg(ask)
    ask.add_argument("-k", type=int, default=5, metavar="N", help="passages to retrieve (default: 5)")
    ask.add_argument("--json", action="store_true", help="print one JSON object per question")
    ask.add_argument("--passages", action="store_true", help="print the retrieved passages only, no answer")
    ask.add_argument("--source", help="only articles from this source")
    ask.add_argument("--since", metavar="YYYY-MM-DD", help="only articles published on or after this date")
    ask.add_argument("--until", metavar="YYYY-MM-DD", help="only articles published on or before this date")
    ask.add_argument(
        "--as-of",
        metavar="YYYY-MM-DD",
        help="answer as of this date: only articles published up to it are read",
    )
    ask.add_argument("--author", metavar="NAME", help="only articles whose byline contains this name")
    ask.add_argument("--site", metavar="SITE", help="only articles from this site (its name or web host)")
    _reader_arg(ask)

    tl = sub.add_parser(
        "timeline",
        help="a subject across articles, ordered by date",
        description="The dated articles about QUERY (a subject or a question), oldest first: each one's date, "
        "title, the sentence about it and the reader's answer there. Where two or more answers are numbers, "
        "--plot FILE draws them over time (.svg or .png).",
    )
    tl.add_argument("query", metavar="QUERY", help='a subject or question, e.g. "measles deaths in Samoa"')
    _index_arg(tl)
    tl.add_argument("--as-of", metavar="YYYY-MM-DD", help="only articles published up to this date")
    tl.add_argument("--json", action="store_true", help="print one JSON object")
    tl.add_argument("--plot", metavar="FILE", help="write a chart of the numbers over time to FILE (.svg or .png)")
    _reader_arg(tl)

    ev = sub.add_parser(
        "eval",
        help="measure retrieval and answer quality on a question set",
        description="SET_DIR holds corpus.jsonl and questions.jsonl. Prints retrieval, answer and abstention "
        "figures, by kind when the questions have a `kind` field, and the calibration of the confidences.",
    )
    ev.add_argument("set_dir", metavar="SET_DIR")
    ev.add_argument(
        "--index", default=None, metavar="DIR", help="index of the set's corpus (default: built in SET_DIR/.index)"
    )
    ev.add_argument("--json", action="store_true", help="print one JSON object")
    ev.add_argument("--limit", type=int, default=None, metavar="N", help="only the first N questions")
    ev.add_argument(
        "--details",
        default=None,
        metavar="FILE",
        help="also write one JSON line per question to FILE: question, kind, gold, answer, best_guess, "
        "confidence, abstained, f1, cited_doc, gold_doc",
    )
    ev.add_argument(
        "--retrieval-only", action="store_true", help="measure retrieval alone (Recall@k, MRR), without answering"
    )
    ev.add_argument(
        "--question-model",
        default=None,
        metavar="MODEL",
        help="embed questions with MODEL: `index` (the index's own model) or a sentence-transformers folder; "
        "default: the shipped question encoder for indexes of the bundled model ($QA_QUESTION_MODEL)",
    )
    _reader_arg(ev)

    sv = sub.add_parser(
        "serve",
        help="start the web app",
        description="Serve the chat web app: answers with highlighted cited quotes, filters, article uploads, "
        "and the /ask and /retrieve API. Builds the index from --corpus first if --index holds none.",
    )
    _index_arg(sv)
    sv.add_argument(
        "--corpus",
        default=DEFAULT_CORPUS,
        metavar="DIR",
        help=f"articles to build the index from when it is missing (default: {DEFAULT_CORPUS})",
    )
    sv.add_argument(
        "--host",
        default="127.0.0.1",
        help="address to listen on (default: 127.0.0.1, this machine only; 0.0.0.0 opens it to the network)",
    )
    sv.add_argument("--port", type=int, default=7860, help="port (default: 7860)")
    _reader_arg(sv)
    _ray_arg(sv, "serve each shard of a sharded index from a Ray actor, spread over the cluster's nodes")
    sv.add_argument(
        "--uploads",
        default=None,
        metavar="DIR",
        help="folder for uploaded articles (default: uploads/ beside the index folder)",
    )
    return parser


# ---------------------------------------------------------------- commands


def _print_report(report, verb: str) -> None:
    for skipped in report.skipped:
        print(f"skipped {skipped.path}: {skipped.reason}", file=sys.stderr)
    for warned in report.warned:
        print(f"warning {warned.path}: {warned.reason}", file=sys.stderr)
    parts = [f"{verb} {report.index_dir}: {report.documents} documents, {report.chunks} chunks, {report.tokens} tokens"]
    if verb != "built":
        parts.append(
            f"({report.added} added, {report.updated} updated, {report.unchanged} unchanged, {report.removed} removed)"
        )
    parts.append(f"in {report.seconds:.1f}s")
    print(" ".join(parts))


def cmd_index(args: argparse.Namespace) -> int:
    from qa.indexing.build import add_documents, build_index, remove_documents

    progress = not args.quiet
    if args.index_command == "build":
        from qa.ingest.chunking import ChunkerSettings

        settings = ChunkerSettings(max_tokens=args.max_tokens) if args.max_tokens else ChunkerSettings()
        if settings.max_tokens < 16:
            raise QAError("--max-tokens must be at least 16")
        how = {"model": args.model, "settings": settings, "progress": progress, "encoder": args.encoder}
        if args.ray is not None:
            from qa.cluster.build import build_on_ray

            report = build_on_ray(args.corpus, args.index, args.ray, shards=args.shards, **how)
        elif args.shards is not None:
            from qa.indexing.shard_build import build_sharded_index

            report = build_sharded_index(args.corpus, args.index, shards=args.shards, **how)
        else:
            report = build_index(args.corpus, args.index, **how)
        _print_report(report, "built")
    elif args.index_command == "add":
        _print_report(add_documents(args.paths, args.index, progress=progress), "updated")
    elif args.index_command == "remove":
        _print_report(remove_documents(args.doc_ids, args.index), "updated")
    elif args.index_command == "reshard":
        from qa.indexing.shard_build import reshard_index

        report = reshard_index(args.index, args.shards, progress=progress)
        print(f"resharded {report.index_dir} into {args.shards}: {report.documents} documents, {report.chunks} chunks")
    elif args.index_command == "stats":
        from qa.encoders.model_choice import rebuild_hint
        from qa.search.sharded import open_generation
        from qa.store.generations import current_generation

        store = open_generation(current_generation(Path(args.index)))
        m = store.manifest
        stats = {
            "index": args.index,
            "documents": m.documents,
            "chunks": m.chunks,
            "tokens": m.tokens,
            "model": m.model_id,
            "dimension": m.dimension,
            "encoder": m.encoder,
            "faiss_index": m.faiss_index,
            "chunker": m.chunker,
            "built_at": m.built_at,
            "updated_at": m.updated_at,
            "size_bytes": store.size_bytes(),
            "shards": getattr(store, "shard_count", 1),
            "rebuild_hint": rebuild_hint(m.model_id),
        }
        if hasattr(store, "shard_manifests"):  # how evenly the id hash spread the documents
            stats["shard_documents"] = [sm.documents for sm in store.shard_manifests]
        if args.documents:
            stats["document_list"] = store.documents()
        if args.json:
            print(json.dumps(stats, indent=2, ensure_ascii=False))
        else:
            print(f"index      {stats['index']}")
            print(f"documents  {m.documents}")
            print(f"chunks     {m.chunks} ({m.tokens} tokens, up to {m.chunker['max_tokens']} each)")
            print(f"model      {m.model_id} ({m.dimension} dimensions, {m.encoder} encoder)")
            print(f"vectors    {m.faiss_index}")
            print(
                f"shards     {stats['shards']}"
                + (f" ({stats['shard_documents']} documents)" if "shard_documents" in stats else "")
            )
            print(f"size       {stats['size_bytes'] / 1e6:.2f} MB")
            if stats["rebuild_hint"]:
                print(f"note       {stats['rebuild_hint']}")
            print(f"built      {m.built_at}, updated {m.updated_at}")
            for d in stats.get("document_list", []):
                print(f"  {d['id']}\t{d['published'] or '-'}\t{d['chunks']} chunks\t{d['title']}")
    else:
        raise QAError("name an action: qa index build|add|remove|reshard|stats (see qa index --help)")
    return 0


def _print_answer(answer, asked_as_of: bool = False) -> None:
    from qa.ingest.dates import spoken_date
    from qa.ui.render import newer_report_note

    if answer.read_as:
        print(f"Read as: {answer.read_as}")
    guess = answer.best_guess
    if guess is not None:
        # Worded so that it cannot be read as an answer, and quoted as one, so it can be checked.
        print(f"Not sure — perhaps {guess.shown_text}  (confidence {guess.confidence:.2f})")
        _print_citations(guess.citations)
        if answer.newer is not None:
            print(newer_report_note(answer))
        return
    if answer.abstained:
        print(f"I don't know: the articles don't say. (confidence {answer.confidence:.2f})")
        if answer.passages:
            print("Closest passages:")
            for p in answer.passages[:3]:
                print(f"  - {p.title} ({p.published or 'undated'}) [{p.start}:{p.end}]")
        return
    as_of = f" (as of {spoken_date(answer.as_of)})" if answer.as_of and (answer.earlier or asked_as_of) else ""
    print(f"{answer.shown_text}{as_of}  (confidence {answer.confidence:.2f})")
    _print_citations(answer.citations)
    if answer.earlier:
        print("Earlier: " + " · ".join(f"{r.text} on {spoken_date(r.published)}" for r in answer.earlier))
        for r in answer.earlier:
            c = r.citation
            print(f"  {spoken_date(r.published)}: {c.title} [{c.start}:{c.end}] “{one_line(c.quote)}”")


def _print_citations(citations) -> None:
    for i, c in enumerate(citations, start=1):
        print(f"[{i}] {c.title}{_byline(c)} ({c.published or 'undated'}) [{c.start}:{c.end}]{_page(c)}")
        print(f"    “{one_line(c.quote)}”")


def _reader_arg(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--reader",
        default=None,
        metavar="DIR",
        help="a local Hugging Face question-answering model folder to read answers with "
        "(e.g. deepset/roberta-base-squad2; converted to ONNX once and cached); default: the shipped reader",
    )


def _byline(c) -> str:
    """— Author, Site: who wrote the cited article and where, when known."""
    parts = [p for p in (c.author, c.source) if p]
    return f" — {', '.join(parts)}" if parts else ""


def _page(c) -> str:
    return f" p. {c.page}" if c.page else ""


def _print_passages(passages) -> None:
    if not passages:
        print("no passages found")
    for p in passages:
        print(f"[{p.rank}] {p.title} ({p.published or 'undated'}) {p.doc_id} [{p.start}:{p.end}] score {p.score:.4f}")
        print(f"    {one_line(p.text)}")


def cmd_ask(args: argparse.Namespace) -> int:
    from qa.index import load_index

    if args.k < 1:
        raise QAError("-k must be at least 1")
    filters = {"source": args.source, "published_from": args.since, "published_to": args.until}
    if args.author or args.site:
        filters.update(author=args.author, site=args.site)
    if args.as_of:
        from qa.answer.changing import as_of_filters

        filters = as_of_filters(args.as_of, filters)  # checked before the index is opened; passages honour it too
    idx = load_index(args.index, reader=args.reader)
    idx.question_embedder.small_batches_without_torch = args.question is not None
    questions = [args.question] if args.question is not None else (line.strip() for line in sys.stdin)
    history: list = []
    status = 0
    for question in questions:
        if args.question is None and not question:
            continue
        try:
            if args.passages:
                passages = idx.retrieve(question, k=args.k, **filters)
                if args.json:
                    print(
                        json.dumps(
                            {"question": question, "passages": [p.to_dict() for p in passages]}, ensure_ascii=False
                        )
                    )
                else:
                    _print_passages(passages)
                continue
            answer = idx.answer(question, history=history, k=args.k, as_of=args.as_of, **filters)
        except QAError as exc:
            if args.question is not None:
                raise
            # One bad line of a batch is reported and the rest still answered.
            print(f"qa: error: {exc}", file=sys.stderr)
            status = 1
            continue
        history.append(answer)
        if args.json:
            print(json.dumps(answer.to_dict(), ensure_ascii=False))
        else:
            if args.question is None:
                print(f"Q: {question}")
            _print_answer(answer, asked_as_of=bool(args.as_of))
            if args.question is None:
                print()
        sys.stdout.flush()
    return status


def cmd_timeline(args: argparse.Namespace) -> int:
    from qa.index import load_index
    from qa.ui.chart import chart_format, chart_points, write_chart

    if args.plot:
        chart_format(args.plot)  # a wrong file name fails before the index is opened
    idx = load_index(args.index, reader=args.reader)
    entries = idx.timeline(args.query, as_of=args.as_of)
    if args.json:
        print(json.dumps({"query": args.query, "entries": [e.to_dict() for e in entries]}, ensure_ascii=False))
    elif not entries:
        print("No dated article speaks of this.")
    else:
        for e in entries:
            c = e.citation
            said = f"{e.text} — " if e.text else ""
            print(f"{e.published}  {c.title} [{c.doc_id}:{c.start}-{c.end}]\n    {said}“{one_line(c.quote)}”")
    if args.plot:
        points = chart_points(entries)
        target = write_chart(points, args.query, args.plot)
        print(f"chart of {len(points)} numbers written to {target}", file=sys.stderr)
    return 0


def cmd_eval(args: argparse.Namespace) -> int:
    from qa.evaluation import evaluate_set, format_report

    result = evaluate_set(
        args.set_dir,
        index_dir=args.index,
        limit=args.limit,
        progress=not args.quiet,
        reader=args.reader,
        details=args.details,
        answers=not args.retrieval_only,
        question_model=args.question_model,
    )
    print(json.dumps(result, indent=2) if args.json else format_report(result))
    return 0


def cmd_serve(args: argparse.Namespace) -> int:
    from qa.ui.app import serve

    serve(
        index_dir=args.index,
        corpus=args.corpus,
        host=args.host,
        port=args.port,
        uploads_dir=args.uploads,
        reader=args.reader,
        ray=args.ray,
    )
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.ERROR if args.quiet else logging.WARNING, format="%(levelname)s: %(message)s", stream=sys.stderr
    )
    from qa.encoders.models import force_offline

    force_offline()
    handlers = {"index": cmd_index, "ask": cmd_ask, "timeline": cmd_timeline, "eval": cmd_eval, "serve": cmd_serve}
    if args.command not in handlers:
        parser.print_help()
        return 2
    try:
        return handlers[args.command](args)
    except QAError as exc:
        print(f"qa: error: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("qa: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 0
    except OSError as exc:
        # A path of the wrong kind, unreadable or unwritable, that no check above named: still one line.
        print(f"qa: error: {describe_os_error(exc)}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
