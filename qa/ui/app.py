"""The web app: a Gradio chat over the index with cited sources, filters, uploads and a JSON API."""

from __future__ import annotations

import errno
import logging
import socket
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from qa.errors import IndexNotFoundError, InputError, QAError
from qa.index import Index, load_index
from qa.ingest.dates import parse_date
from qa.records import Answer
from qa.store.generations import current_generation
from qa.ui.examples import example_questions
from qa.ui.render import (
    CSS,
    SOURCES_JS,
    chat_reply,
    corpus_panel,
    error_reply,
    escape,
    header,
    shown_citations,
    sources_panel,
    timeline_panel,
)
from qa.ui.uploads import MAX_UPLOAD_BYTES, UPLOAD_TYPES, add_uploads, add_url, size_label, uploads_dir_for

log = logging.getLogger(__name__)

ALL_SOURCES = "All sources"
DEFAULT_K = 5
MAX_K = 20
# Articles per page of the Articles tab: the list is read a page at a time, never whole.
PAGE_SIZE = 50
QUEUE_CONCURRENCY = 8


class PortInUseError(QAError):
    """The port the app should listen on is taken by another program."""


# ---------------------------------------------------------------- requests shared by the UI and the API


def filters(
    source: str | None, since: str | None, until: str | None, author: str | None = None, site: str | None = None
) -> dict[str, str | None]:
    """Retrieval filters from the form's values; dates may be written in any common style."""
    out: dict[str, str | None] = {"source": None if source in (None, "", ALL_SOURCES) else source}
    # Author (a name in the byline) and site (name or web host) only when given, like `qa ask --author/--site`.
    out.update({k: v.strip() for k, v in (("author", author), ("site", site)) if v and v.strip()})
    for key, value, label in (("published_from", since, "From"), ("published_to", until, "To")):
        value = (value or "").strip()
        date = parse_date(value) if value else None
        if value and date is None:
            raise InputError(f"{label} date {value!r} is not a date; write it as YYYY-MM-DD")
        out[key] = date
    if out["published_from"] and out["published_to"] and out["published_from"] > out["published_to"]:
        raise InputError("the From date is after the To date")
    return out


def as_of_date(value: str | None) -> str | None:
    """The form's "as of" date as YYYY-MM-DD (any common style), None when empty."""
    value = (value or "").strip()
    day = parse_date(value) if value else None
    if value and day is None:
        raise InputError(f"As of date {value!r} is not a date; write it as YYYY-MM-DD")
    return day


def _k(k: Any) -> int:
    try:
        value = int(k)
    except (TypeError, ValueError):
        raise InputError(f"k must be a whole number, not {k!r}") from None
    if not 1 <= value <= MAX_K * 5:
        raise InputError(f"k must be between 1 and {MAX_K * 5}")
    return value


class App:
    """The request handlers of one served index; every session shares the one `Index`."""

    def __init__(self, index: Index, uploads_dir: Path, max_upload_bytes: int = MAX_UPLOAD_BYTES) -> None:
        self.index = index
        self.uploads_dir = uploads_dir
        self.max_upload_bytes = max_upload_bytes

    # -- API

    def ask(
        self,
        question: str,
        k: int = DEFAULT_K,
        source: str = "",
        since: str = "",
        until: str = "",
        author: str = "",
        site: str = "",
        as_of: str = "",
    ) -> dict:
        """Answer a question with cited spans, as of a date when `as_of` is given; the same JSON object as
        `qa ask --json`."""
        return self._query(self.index.answer, question, k, (source, since, until, author, site), as_of).to_dict()

    def retrieve(
        self,
        question: str,
        k: int = DEFAULT_K,
        source: str = "",
        since: str = "",
        until: str = "",
        author: str = "",
        site: str = "",
    ) -> list:
        """The k passages that best match the question, best first."""
        return [
            p.to_dict() for p in self._query(self.index.retrieve, question, k, (source, since, until, author, site))
        ]

    def timeline(self, query: str, as_of: str = "") -> list:
        """The dated articles about `query`, oldest first: date, the reader's answer, its number and the cited
        sentence (as `qa timeline --json`'s entries)."""
        import gradio as gr

        try:
            return [e.to_dict() for e in self.index.timeline(query, as_of=as_of_date(as_of))]
        except QAError as exc:
            raise gr.Error(str(exc)) from None

    def timeline_view(self, query: str, as_of: str = "") -> str:
        """The Timeline tab's HTML for `query`: the chart of its numbers and each article's sentence."""
        from qa.ui.chart import chart_points, svg_chart

        query = (query or "").strip()
        if not query:
            return timeline_panel("", ())
        try:
            entries = self.index.timeline(query, as_of=as_of_date(as_of))
        except QAError as exc:
            return error_reply(str(exc))
        points = chart_points(entries)
        chart = f'<div class="qa-chart-box">{svg_chart(points, query)}</div>' if points else ""
        return timeline_panel(query, entries, chart)

    @staticmethod
    def _query(method, question: str, k: int, limits: tuple[str, ...], as_of: str = ""):
        """`method` (answer or retrieve) called with the API's arguments; a user's mistake becomes a Gradio error."""
        import gradio as gr

        try:
            extra = {"as_of": as_of_date(as_of)} if as_of else {}
            return method(question, k=_k(k), **filters(*limits), **extra)
        except QAError as exc:
            raise gr.Error(str(exc)) from None

    # -- UI events

    def _sources(self, answer: Answer | None) -> str:
        docs = {}
        earlier = tuple(r.citation for r in answer.earlier) if answer else ()
        newer = (answer.newer,) if answer and answer.newer else ()
        for c in (*shown_citations(answer), *earlier, *newer) if answer else ():
            if c.doc_id not in docs:
                try:
                    docs[c.doc_id] = self.index.document(c.doc_id)
                except QAError:
                    continue  # removed since it was cited
        return sources_panel(answer, docs)

    def respond(
        self,
        question: str,
        k: float,
        source: str,
        since: str,
        until: str,
        chat: list,
        answers: list,
        author: str = "",
        as_of: str = "",
    ) -> Iterator[tuple[Any, ...]]:
        """Chat turn: show the question at once, then the answer and its sources."""
        question = (question or "").strip()
        if not question:
            yield chat, answers, self._sources(answers[-1] if answers else None), ""
            return
        chat = [*chat, {"role": "user", "content": escape(question)}]
        pending = {"role": "assistant", "content": '<div class="qa-hint">Searching the articles…</div>'}
        yield [*chat, pending], answers, self._sources(answers[-1] if answers else None), ""
        try:
            limits = filters(source, since, until, author)
            answer = self.index.answer(question, history=answers, k=_k(k), as_of=as_of_date(as_of), **limits)
        except QAError as exc:
            yield [*chat, {"role": "assistant", "content": error_reply(str(exc))}], answers, self._sources(None), ""
            return
        except Exception:  # the session must survive a bug; the log keeps the traceback
            log.exception("answering %r failed", question)
            reply = error_reply("something went wrong while answering; the error is in the server log")
            yield [*chat, {"role": "assistant", "content": reply}], answers, self._sources(None), ""
            return
        answers = [*answers, answer]
        yield [*chat, {"role": "assistant", "content": chat_reply(answer)}], answers, self._sources(answer), ""

    def _page(self, query: str, offset: int) -> tuple[str, int, bool, bool]:
        """A page of the article list, the offset it starts at, and whether pages come before and after it."""
        query = (query or "").strip()
        offset = max(0, offset)
        rows, total = self.index.documents_page(query, offset, PAGE_SIZE)
        if not rows and offset and total:  # the list shrank under the page shown: show its last page instead
            offset = (total - 1) // PAGE_SIZE * PAGE_SIZE
            rows, total = self.index.documents_page(query, offset, PAGE_SIZE)
        return corpus_panel(rows, total, offset, query), offset, offset > 0, offset + len(rows) < total

    def article_page(self, query: str, offset: Any = 0, step: int = 0) -> tuple[Any, ...]:
        """The article list `step` pages on from `offset` for the search `query`, with the buttons' states."""
        import gradio as gr

        try:
            start = int(offset or 0) + step * PAGE_SIZE
        except (TypeError, ValueError):
            start = 0
        panel, start, before, after = self._page(query, start)
        return panel, start, gr.update(interactive=before), gr.update(interactive=after)

    def corpus_view(self, query: str = "", offset: Any = 0) -> tuple[Any, ...]:
        """Header, the article list's page and the source choices as the index holds them now."""
        import gradio as gr

        stats = self.index.stats()
        return (
            header(stats["documents"], stats["chunks"]),
            *self.article_page(query, offset),
            gr.update(choices=[ALL_SOURCES, *stats["sources"]]),
        )

    def fetch_url(self, url: str, query: str = "", offset: Any = 0) -> tuple[Any, ...]:
        """Fetch a web page, add its article to the index, then refresh the corpus views."""
        if not (url or "").strip():
            return ("", "", *self.corpus_view(query, offset))
        try:
            result = add_url(self.index, url)
            status = result.message()
            cls = "qa-hint" if result.documents else "qa-error"
        except QAError as exc:
            status, cls = str(exc), "qa-error"
        except Exception:
            log.exception("adding %s failed", url)
            status, cls = "adding the page failed; the error is in the server log", "qa-error"
        kept = "" if cls == "qa-hint" else url
        return (kept, f'<div class="{cls}" id="upload-status">{escape(status)}</div>', *self.corpus_view(query, offset))

    def upload(self, files: list[str] | None, query: str = "", offset: Any = 0) -> tuple[Any, ...]:
        """Add uploaded articles to the index without a rebuild, then refresh the corpus views."""
        if not files:
            return (None, "", *self.corpus_view(query, offset))
        try:
            result = add_uploads(
                self.index, [(Path(f), Path(f).name) for f in files], self.uploads_dir, self.max_upload_bytes
            )
            status = result.message()
            cls = "qa-hint" if result.documents else "qa-error"
        except QAError as exc:
            status, cls = str(exc), "qa-error"
        except Exception:
            log.exception("upload failed")
            status, cls = "the upload failed; the error is in the server log", "qa-error"
        return (None, f'<div class="{cls}" id="upload-status">{escape(status)}</div>', *self.corpus_view(query, offset))


# ---------------------------------------------------------------- layout


def theme():
    """A calm theme using the system's fonts, so the page loads nothing from the internet."""
    import gradio as gr

    sans = [
        "ui-sans-serif",
        "system-ui",
        "-apple-system",
        "Segoe UI",
        "Roboto",
        "Helvetica Neue",
        "Arial",
        "sans-serif",
    ]
    mono = ["ui-monospace", "SFMono-Regular", "Menlo", "Consolas", "monospace"]
    return gr.themes.Soft(primary_hue="blue", neutral_hue="slate", font=sans, font_mono=mono)


def _line_box(placeholder: str, elem_id: str):
    """A one-line text field without a label, filling its row beside a button."""
    import gradio as gr

    return gr.Textbox(show_label=False, placeholder=placeholder, elem_id=elem_id, scale=5, max_lines=1)


def build_app(app: App, examples: list[str] | None = None):
    """The Gradio Blocks of the web app, with the named API endpoints /ask and /retrieve."""
    import gradio as gr

    stats = app.index.stats()
    examples = example_questions(app.index) if examples is None else examples
    with gr.Blocks(title="News QA", analytics_enabled=False) as demo:
        head = gr.HTML(header(stats["documents"], stats["chunks"]), elem_id="header", js_on_load=None)
        answers = gr.State([])
        with gr.Row(equal_height=False):
            with gr.Column(scale=3, min_width=420):
                chat = gr.Chatbot(
                    elem_id="chat",
                    label="Conversation",
                    height=480,
                    latex_delimiters=[],
                    feedback_options=None,
                    buttons=["copy"],
                    placeholder="Ask a question about the articles. Answers cite the sentences they come from.",
                )
                with gr.Row(equal_height=True):
                    question = gr.Textbox(
                        elem_id="question",
                        show_label=False,
                        placeholder="Ask a question, e.g. a follow-up to the last answer…",
                        scale=6,
                        max_lines=3,
                        autofocus=True,
                    )
                    ask_button = gr.Button("Ask", variant="primary", scale=1, elem_id="ask", min_width=80)
                with gr.Row(elem_id="examples"):
                    if examples:
                        gr.HTML('<span class="qa-try">Try</span>', js_on_load=None, scale=0, min_width=0)
                    example_buttons = [
                        gr.Button(q, size="sm", variant="secondary", elem_classes="qa-example", scale=0, min_width=0)
                        for q in examples
                    ]
                with gr.Accordion("Search settings", open=False, elem_id="settings"):
                    with gr.Row():
                        k = gr.Slider(1, MAX_K, value=DEFAULT_K, step=1, label="Passages", elem_id="k", scale=2)
                        source = gr.Dropdown(
                            [ALL_SOURCES, *stats["sources"]], value=ALL_SOURCES, label="Source", elem_id="source"
                        )
                        since = gr.Textbox(label="From date", placeholder="YYYY-MM-DD", elem_id="since")
                        until = gr.Textbox(label="To date", placeholder="YYYY-MM-DD", elem_id="until")
                        author = gr.Textbox(label="Author", placeholder="a name in the byline", elem_id="author")
                        as_of = gr.Textbox(
                            label="As of", placeholder="YYYY-MM-DD: answer from articles up to then", elem_id="as-of"
                        )
            with gr.Column(scale=2, min_width=360):
                with gr.Tabs():
                    with gr.Tab("Sources", elem_id="sources-tab"):
                        sources = gr.HTML(app._sources(None), elem_id="sources", js_on_load=SOURCES_JS)
                    with gr.Tab("Timeline", elem_id="timeline-tab"):
                        with gr.Row(equal_height=True):
                            subject = _line_box("A subject or question, e.g. measles deaths in Samoa", "timeline-query")
                            show = gr.Button("Show", size="sm", elem_id="timeline-show", scale=0, min_width=80)
                        timeline_html = gr.HTML(timeline_panel("", ()), elem_id="timeline", js_on_load=None)
                    with gr.Tab("Articles", elem_id="articles-tab"):
                        files = gr.File(
                            label=f"Add articles ({' '.join(UPLOAD_TYPES)}, up to {size_label(app.max_upload_bytes)} each)",
                            file_count="multiple",
                            file_types=list(UPLOAD_TYPES),
                            elem_id="upload",
                            height=120,
                        )
                        with gr.Row(equal_height=True):
                            url = _line_box("or a web page's address: https://…", "url")
                            fetch = gr.Button("Add page", size="sm", elem_id="add-url", scale=1, min_width=90)
                        status = gr.HTML("", elem_id="upload-status-box", js_on_load=None)
                        panel, _, before, after = app._page("", 0)
                        with gr.Row(equal_height=True, elem_id="article-nav"):
                            search = _line_box("Search articles…", "article-search")
                            previous = gr.Button(
                                "‹ Previous",
                                size="sm",
                                elem_id="articles-previous",
                                interactive=before,
                                scale=0,
                                min_width=96,
                            )
                            following = gr.Button(
                                "Next ›", size="sm", elem_id="articles-next", interactive=after, scale=0, min_width=80
                            )
                        corpus = gr.HTML(panel, elem_id="corpus", js_on_load=None)
                        offset = gr.State(0)

        turn = dict(
            fn=app.respond,
            inputs=[question, k, source, since, until, chat, answers, author, as_of],
            outputs=[chat, answers, sources, question],
            api_visibility="private",
        )
        question.submit(**turn)
        ask_button.click(**turn)
        for button in example_buttons:
            button.click(lambda q: q, inputs=[button], outputs=[question], api_visibility="private").then(**turn)
        # The chat's own clear button starts a new conversation: earlier turns no longer steer follow-ups.
        chat.clear(lambda: ([], app._sources(None)), outputs=[answers, sources], api_visibility="private")
        dated = dict(fn=app.timeline_view, inputs=[subject, as_of], outputs=[timeline_html], api_visibility="private")
        subject.submit(**dated)
        show.click(**dated)
        listing = [corpus, offset, previous, following]
        views = [head, *listing, source]
        files.upload(
            app.upload, inputs=[files, search, offset], outputs=[files, status, *views], api_visibility="private"
        )
        page = dict(
            fn=app.fetch_url, inputs=[url, search, offset], outputs=[url, status, *views], api_visibility="private"
        )
        url.submit(**page)
        fetch.click(**page)
        # Each keystroke searches anew; while one search runs, only the latest text waits for its turn.
        search.change(
            app.article_page,
            inputs=[search],
            outputs=listing,
            trigger_mode="always_last",
            show_progress="hidden",
            api_visibility="private",
        )
        for button, step in ((previous, -1), (following, 1)):
            button.click(
                lambda query, start, step=step: app.article_page(query, start, step),
                inputs=[search, offset],
                outputs=listing,
                api_visibility="private",
            )

        gr.api(app.ask, api_name="ask")
        gr.api(app.retrieve, api_name="retrieve")
        gr.api(app.timeline, api_name="timeline")
    demo.queue(default_concurrency_limit=QUEUE_CONCURRENCY)
    return demo


# ---------------------------------------------------------------- serving


def check_port(host: str, port: int) -> None:
    """PortInUseError when `host:port` cannot be bound, so start-up fails with one clear line."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                raise PortInUseError(
                    f"port {port} on {host} is already in use; stop the program using it or pick another with --port"
                ) from None
            raise PortInUseError(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from None


def ensure_index(index_dir: str | Path, corpus: str | Path) -> None:
    """Build the index from `corpus` when `index_dir` holds none yet, with progress in the terminal."""
    index_dir = Path(index_dir)
    try:
        current_generation(index_dir)  # a file or an unreadable folder is reported here, before any build
        return
    except IndexNotFoundError:
        pass
    from qa.indexing.build import build_index
    from qa.ingest.corpus import iter_corpus_files

    next(iter_corpus_files([corpus]), None)  # a missing or unreadable corpus is reported before the build is announced
    print(f"No index at {index_dir}: building it from {corpus} …", file=sys.stderr, flush=True)
    report = build_index(corpus, index_dir, progress=True)
    print(
        f"Built {index_dir}: {report.documents} articles, {report.chunks} passages in {report.seconds:.1f}s",
        file=sys.stderr,
        flush=True,
    )


def launch(
    index_dir: str | Path = "index",
    host: str = "127.0.0.1",
    port: int = 7860,
    uploads_dir: str | Path | None = None,
    max_upload_bytes: int = MAX_UPLOAD_BYTES,
    block: bool = True,
    reader: str | None = None,
    ray: str | None = None,
):
    """Start the app on an existing index; with `block=False` returns the running Blocks at once.
    `ray` serves the shards of a sharded index from actors of that Ray cluster."""
    check_port(host, port)
    index = load_index(index_dir, reader=reader, ray=ray)
    # Loaded (and on a first run converted) now, so the first question does not wait for it.
    index.reader  # noqa: B018
    app = App(index, uploads_dir_for(Path(index_dir), uploads_dir), max_upload_bytes)
    demo = build_app(app)
    try:
        demo.launch(
            server_name=host,
            server_port=port,
            prevent_thread_lock=True,
            quiet=True,
            ssr_mode=False,
            max_file_size=max_upload_bytes,
            theme=theme(),
            css=CSS,
            footer_links=["api"],
        )
    except OSError as exc:  # the port was taken between the check and the launch
        raise PortInUseError(f"cannot listen on {host}:{port}: {exc}") from None
    shown = "127.0.0.1" if host in ("0.0.0.0", "::") else host
    print(
        f"News QA is serving {index.stats()['documents']} articles at http://{shown}:{port}  (Ctrl+C stops it)",
        flush=True,
    )
    if host not in ("127.0.0.1", "localhost", "::1"):
        print(
            f"warning: listening on {host}: other machines can reach this app and add articles to it",
            file=sys.stderr,
            flush=True,
        )
    if block:
        try:
            demo.block_thread()
        finally:
            demo.close()
    return demo


def serve(
    index_dir: str | Path = "index",
    corpus: str | Path = "corpus",
    host: str = "127.0.0.1",
    port: int = 7860,
    uploads_dir: str | Path | None = None,
    reader: str | None = None,
    ray: str | None = None,
) -> None:
    """Build the index from `corpus` if it is missing, then serve the web app until interrupted;
    `reader` names a local Hugging Face question-answering folder instead of the shipped reader."""
    check_port(host, port)
    uploads_dir_for(Path(index_dir), uploads_dir)  # a wrong --uploads is reported before any build
    ensure_index(index_dir, corpus)
    launch(index_dir, host=host, port=port, uploads_dir=uploads_dir, reader=reader, ray=ray)
