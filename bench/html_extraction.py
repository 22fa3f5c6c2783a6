"""What article extraction changes: boilerplate in the index, answers, and the cost in build time.

    python bench/html_extraction.py [--wikinews FILE] [--repeat N] [--json]

Three figures, each for the project's own HTML parser (`qa.ingest.documents.parse_html`, "before") and for the
trafilatura extraction the loader now uses ("after"):

1. tests/data/pages (saved news pages with menus, cookie banners, teasers, comments, scripts; what each
   holds is listed in tests/data/pages-expected): how many of the pages' boilerplate sentences reach the
   indexed text, how much of that text they make up, and how many article sentences are kept.
2. The same questions asked of an index of those pages built each way: the answer and its first citation.
3. The Wikinews corpus (../shared/corpus-extra) rendered to HTML pages with a site's usual furniture:
   pages/s of loading alone, and the total time of a full build (load, chunk, embed, write), best of N,
   in wall-clock seconds and in CPU seconds of the process (all its threads): on a shared machine the
   CPU seconds move far less with the other jobs than the wall clock does.
Prints the figures and saves them to bench/results/html_extraction.json.
"""

from __future__ import annotations

import argparse
import html
import json
import sys
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import ROOT, SHARED, machine, write_json  # noqa: E402

PAGES = ROOT / "tests" / "data" / "pages"
EXPECTED = ROOT / "tests" / "data" / "pages-expected"
WIKINEWS = SHARED / "corpus-extra" / "wikinews-2019-2020.jsonl"

# Questions about the saved pages' articles, and questions whose only "answer" in a page is its furniture.
QUESTIONS = [
    "Who is the union secretary?",
    "How much did the strike cost local firms?",
    "How many new stops will the tram line have?",
    "Who leads on transport for the council?",
    "What percentage of its capacity is the Altmoor reservoir at?",
    "When is the comet fragment expected to strike Jupiter?",
    "How many branch libraries will stay open?",
    "How do I accept cookies?",
    "Which football club appointed a new coach?",
    "What did commenters say about the nurses?",
]


@contextmanager
def html_loader(kind: str):
    """Loads .html files with the old parser ("before") or the article extractor ("after") while active."""
    import qa.ingest.corpus as corpus
    from qa.ingest.documents import parse_html

    original = corpus.read_html_page

    def before(raw, doc_id, path, report, url=None):
        return parse_html(raw, doc_id)

    corpus.read_html_page = before if kind == "before" else original
    try:
        yield
    finally:
        corpus.read_html_page = original


_INVISIBLE = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u2060\ufeff"))


def _norm(text: str) -> str:
    # Zero-width joiners (Wikinews puts them after links) are dropped by the extractor; they are not text.
    return " ".join(text.translate(_INVISIBLE).split())


def boilerplate_figures() -> dict:
    """Boilerplate and article sentences of the saved pages found in the text each loader indexes."""
    from qa.ingest.corpus import load_corpus
    from qa.ingest.documents import LoadReport

    out = {}
    for kind in ("before", "after"):
        with html_loader(kind):
            docs = {d.id: d for d in load_corpus([PAGES], LoadReport())}
        bp_found = bp_total = art_found = art_total = bp_chars = chars = 0
        for page in sorted(PAGES.glob("*.html")):
            expected = json.loads((EXPECTED / f"{page.stem}.json").read_text(encoding="utf-8"))
            text = _norm(docs[page.name].text)
            chars += len(text)
            for b in expected["boilerplate"]:
                bp_total += 1
                if _norm(b) in text:
                    bp_found += 1
                    bp_chars += len(_norm(b))
            art_total += len(expected["article"])
            art_found += sum(_norm(a) in text for a in expected["article"])
        out[kind] = {
            "pages": len(docs),
            "boilerplate_sentences_indexed": bp_found,
            "boilerplate_sentences": bp_total,
            "boilerplate_share_reaching_index": bp_found / bp_total,
            "boilerplate_share_of_indexed_chars": bp_chars / chars,
            "article_sentences_kept": art_found,
            "article_sentences": art_total,
            "indexed_chars": chars,
        }
    return out


def answer_figures() -> dict:
    """The answer and first citation of each question, from an index of the saved pages built each way."""
    from qa.index import load_index
    from qa.indexing.build import build_index

    out: dict[str, list] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for kind in ("before", "after"):
            with html_loader(kind):
                build_index(PAGES, Path(tmp) / kind)
            idx = load_index(Path(tmp) / kind)
            rows = []
            for q in QUESTIONS:
                a = idx.answer(q)
                c = a.citations[0] if a.citations else None
                rows.append(
                    {
                        "question": q,
                        "answer": a.text,
                        "confidence": round(a.confidence, 3),
                        "cited": _norm(c.quote)[:140] if c else None,
                        "cited_author": c.author if c else None,
                    }
                )
            idx.close()
            out[kind] = rows
    return out


PAGE_TEMPLATE = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{title} - Wikinews, the free news source</title>
<meta property="og:site_name" content="Wikinews"><meta property="og:title" content="{title}">
<meta property="article:published_time" content="{date}"><link rel="canonical" href="{url}">
<script>var wgPageName = "{slug}"; (window.RLQ = window.RLQ || []).push(function () {{}});</script>
<style>.mw-body {{ margin-left: 11em }}</style></head>
<body><div id="cookie-notice">This site uses cookies to keep you signed in. <a href="#">OK</a></div>
<div id="mw-navigation"><ul><li><a href="/wiki/Main_Page">Main page</a></li><li><a href="/wiki/Portal:Politics">Politics</a></li>
<li><a href="/wiki/Portal:Science">Science</a></li><li><a href="/wiki/Portal:Sports">Sports</a></li><li><a href="/wiki/Special:Random">Random article</a></li></ul></div>
<div class="mw-body"><h1 id="firstHeading">{title}</h1>
<div id="bodyContent"><p class="published">{date}</p>
{paragraphs}
<div class="related"><h2>Related news</h2><ul><li><a href="#">Wikinews interviews a city council candidate</a></li>
<li><a href="#">Storm leaves thousands without power</a></li></ul></div>
<div class="sources"><h2>Sources</h2><ul><li>Wire report, {date}</li></ul></div></div></div>
<div id="footer"><p>This page was last edited on {date}. Text is available under the Creative Commons Attribution 2.5 License.</p>
<p><a href="#">Privacy policy</a> · <a href="#">About Wikinews</a> · <a href="#">Disclaimers</a> · <a href="#">Mobile view</a></p></div>
<script>mw.config.set({{"wgBackendResponseTime": 123}});</script></body></html>
"""


def render_wikinews(src: Path, folder: Path) -> int:
    """Each Wikinews record as an HTML page with the site's navigation, notices and footer; returns the count."""
    folder.mkdir(parents=True, exist_ok=True)
    n = 0
    for line in src.read_text(encoding="utf-8").splitlines():
        if not line.strip():
            continue
        rec = json.loads(line)
        paragraphs = "\n".join(f"<p>{html.escape(p.strip())}</p>" for p in rec["text"].split("\n") if p.strip())
        page = PAGE_TEMPLATE.format(
            title=html.escape(rec["title"]),
            date=html.escape(rec.get("date") or ""),
            url=html.escape(rec.get("url") or ""),
            slug=html.escape(rec["doc_id"]),
            paragraphs=paragraphs,
        )
        (folder / f"{rec['doc_id']}.html").write_text(page, encoding="utf-8")
        n += 1
    return n


def paragraphs_kept(src: Path, docs: list) -> tuple[int, int]:
    """(paragraphs of the Wikinews articles found in the loaded text, paragraphs in all): article text kept."""
    by_id = {Path(d.id).stem: _norm(d.text) for d in docs}
    kept = total = 0
    for line in src.read_text(encoding="utf-8").splitlines():
        if not line.strip():
            continue
        rec = json.loads(line)
        text = by_id.get(rec["doc_id"], "")
        for p in rec["text"].split("\n"):
            if p.strip():
                total += 1
                kept += _norm(p) in text
    return kept, total


def throughput_figures(src: Path, repeat: int, build: bool = True) -> dict:
    """Loading pages/s, article paragraphs kept and full build seconds for each loader on the rendered Wikinews
    pages (best of `repeat`)."""
    from qa.encoders.embedding import Embedder
    from qa.indexing.build import build_index
    from qa.ingest.corpus import load_corpus
    from qa.ingest.documents import LoadReport

    Embedder().load()  # the model loads once for the process, outside every timing
    out: dict[str, dict] = {}
    with tempfile.TemporaryDirectory() as tmp:
        pages = Path(tmp) / "pages"
        n = render_wikinews(src, pages)
        for kind in ("before", "after"):
            out[kind] = {"pages": n, "load_s": [], "build_s": [], "build_cpu_s": []}
        # Alternate the two so a change in the machine's load hits both alike.
        for _ in range(repeat):
            for kind in ("before", "after"):
                with html_loader(kind):
                    t = time.perf_counter()
                    docs = load_corpus([pages], LoadReport())
                    out[kind]["load_s"].append(time.perf_counter() - t)
                    out[kind]["paragraphs_kept"], out[kind]["paragraphs"] = paragraphs_kept(src, docs)
                    out[kind]["documents"] = len(docs)
                    if not build:
                        continue
                    cpu = time.process_time()
                    report = build_index(pages, Path(tmp) / f"ix-{kind}")
                    out[kind]["build_cpu_s"].append(time.process_time() - cpu)
                    out[kind]["build_s"].append(report.seconds)
                    out[kind]["chunks"] = report.chunks
                    out[kind]["tokens"] = report.tokens
        for fig in out.values():
            fig["load_pages_per_s"] = fig["pages"] / min(fig["load_s"])
    if not build:
        return out
    for fig in out.values():
        fig["build_best_s"] = min(fig["build_s"])
        fig["build_best_cpu_s"] = min(fig["build_cpu_s"])
    out["build_time_growth"] = out["after"]["build_best_s"] / out["before"]["build_best_s"] - 1
    out["build_cpu_growth"] = out["after"]["build_best_cpu_s"] / out["before"]["build_best_cpu_s"] - 1
    # What extraction alone adds, against the old parser's whole build.
    out["load_share_growth"] = (min(out["after"]["load_s"]) - min(out["before"]["load_s"])) / out["before"][
        "build_best_s"
    ]
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--wikinews", type=Path, default=WIKINEWS, help="Wikinews jsonl to render to HTML")
    parser.add_argument("--repeat", type=int, default=2, help="builds per loader; the best is reported")
    parser.add_argument("--no-build", action="store_true", help="time loading only, without the full builds")
    parser.add_argument("--json", action="store_true", help="print the figures as one JSON object")
    args = parser.parse_args(argv)
    from qa.encoders.models import force_offline

    force_offline()
    result: dict = {"machine": machine(), "boilerplate": boilerplate_figures(), "answers": answer_figures()}
    if args.wikinews.is_file():
        result["throughput"] = throughput_figures(args.wikinews, args.repeat, build=not args.no_build)
    else:
        print(f"{args.wikinews} is absent: throughput on Wikinews skipped", file=sys.stderr)
    write_json("html_extraction.json", result)
    if args.json:
        print(json.dumps(result, indent=2, ensure_ascii=False))
        return 0
    print("Saved pages (tests/data/pages)")
    for kind in ("before", "after"):
        b = result["boilerplate"][kind]
        print(
            f"  {kind:6}  boilerplate sentences indexed {b['boilerplate_sentences_indexed']}/{b['boilerplate_sentences']}"
            f" ({b['boilerplate_share_reaching_index']:.0%}), {b['boilerplate_share_of_indexed_chars']:.0%} of indexed text;"
            f" article sentences kept {b['article_sentences_kept']}/{b['article_sentences']}"
        )
    print("\nAnswers (before -> after)")
    for before, after in zip(result["answers"]["before"], result["answers"]["after"]):
        print(f"  Q: {before['question']}")
        for kind, row in (("before", before), ("after", after)):
            shown = row["answer"] if row["answer"] is not None else "(abstains)"
            cited = f" — “{row['cited']}”" if row["cited"] and row["answer"] is not None else ""
            print(f"     {kind:6} {shown} ({row['confidence']:.2f}){cited}")
    if "throughput" in result:
        t = result["throughput"]
        print(f"\nWikinews rendered to HTML ({t['before']['pages']} pages, best of {args.repeat})")
        for kind in ("before", "after"):
            f = t[kind]
            print(
                f"  {kind:6}  load {f['load_pages_per_s']:.0f} pages/s ({1000 / f['load_pages_per_s']:.1f} ms a page); "
                f"article paragraphs kept {f['paragraphs_kept']}/{f['paragraphs']}"
            )
            if "build_best_s" in f:
                print(
                    f"          build {f['build_best_s']:.1f} s wall, {f['build_best_cpu_s']:.1f} s CPU "
                    f"({f['chunks']} chunks, {f['tokens']} tokens); all builds "
                    f"{', '.join(f'{s:.0f}' for s in f['build_s'])} s"
                )
        if "build_time_growth" in t:
            print(
                f"  build growth {t['build_time_growth']:+.1%} wall, {t['build_cpu_growth']:+.1%} CPU; "
                f"the slower loading alone {t['load_share_growth']:+.1%} of the old build (goal: at most +25%)"
            )
    print(f"\nload average {result['machine'].get('load_average_1m')}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
