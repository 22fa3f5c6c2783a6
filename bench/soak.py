"""Load test of the web app's API: many concurrent clients asking questions over loopback.

    python bench/soak.py                       # 20 clients, 500 questions, default corpus, app started here
    python bench/soak.py --url http://127.0.0.1:7860 --clients 20 --questions 500 --json

Each distinct question is first asked once, alone, for a reference answer; then the clients share the
questions and every concurrent answer is compared with its reference. Prints p50/p95/p99 latency,
throughput, errors and mismatches. Figures only: nothing here asserts a speed.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import queue
import socket
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_QUESTIONS = ROOT / "tests" / "data" / "default_questions.jsonl"


def answer_key(out: dict) -> tuple:
    """What must not change between an answer asked alone and one asked under load."""
    cites = tuple((c["doc_id"], c["start"], c["end"]) for c in out.get("citations", []))
    return out.get("answer"), out.get("abstained"), round(float(out.get("confidence", 0.0)), 6), cites


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))]


def run_load(url: str, questions: list[str], clients: int, total: int) -> dict:
    """Ask `total` questions (cycling through `questions`) from `clients` concurrent API clients."""
    from gradio_client import Client

    reference_client = Client(url, verbose=False)
    reference = {q: answer_key(reference_client.predict(q, api_name="/ask")) for q in dict.fromkeys(questions)}
    work: queue.Queue[str] = queue.Queue()
    for i in range(total):
        work.put(questions[i % len(questions)])
    latencies: list[float] = []
    errors: list[str] = []
    mismatches: list[str] = []
    lock = threading.Lock()
    ready = threading.Barrier(clients + 1)

    def client_loop() -> None:
        try:
            client = Client(url, verbose=False)
        except Exception as exc:  # noqa: BLE001 - a client that cannot connect is an error to report
            with lock:
                errors.append(f"connect: {type(exc).__name__}: {exc}")
            ready.wait()
            return
        ready.wait()
        while True:
            try:
                question = work.get_nowait()
            except queue.Empty:
                return
            t0 = time.perf_counter()
            try:
                out = client.predict(question, api_name="/ask")
            except Exception as exc:  # noqa: BLE001
                with lock:
                    errors.append(f"{question!r}: {type(exc).__name__}: {exc}")
                continue
            elapsed = time.perf_counter() - t0
            with lock:
                latencies.append(elapsed)
                if answer_key(out) != reference[question]:
                    mismatches.append(f"{question!r}: {answer_key(out)} != {reference[question]}")

    threads = [threading.Thread(target=client_loop, daemon=True) for _ in range(clients)]
    for t in threads:
        t.start()
    ready.wait()
    t0 = time.perf_counter()
    for t in threads:
        t.join()
    wall = time.perf_counter() - t0
    return {
        "clients": clients,
        "questions": total,
        "answered": len(latencies),
        "errors": len(errors),
        "mismatches": len(mismatches),
        "p50_ms": percentile(latencies, 50) * 1000,
        "p95_ms": percentile(latencies, 95) * 1000,
        "p99_ms": percentile(latencies, 99) * 1000,
        "max_ms": max(latencies, default=float("nan")) * 1000,
        "questions_per_second": len(latencies) / wall if wall else 0.0,
        "seconds": wall,
        "error_examples": errors[:5],
        "mismatch_examples": mismatches[:5],
    }


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_app(index_dir: Path, uploads_dir: Path):
    """The real web app on a free loopback port, in this process; returns (demo, url)."""
    from qa.ui.app import launch

    port = free_port()
    demo = launch(index_dir, host="127.0.0.1", port=port, uploads_dir=uploads_dir, block=False)
    return demo, f"http://127.0.0.1:{port}/"


def load_questions(path: Path) -> list[str]:
    return [json.loads(line)["question"] for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def format_report(r: dict) -> str:
    lines = [
        f"{r['clients']} clients, {r['questions']} questions: {r['answered']} answered, "
        f"{r['errors']} errors, {r['mismatches']} differ from the answer asked alone",
        f"latency p50 {r['p50_ms']:.0f} ms  p95 {r['p95_ms']:.0f} ms  p99 {r['p99_ms']:.0f} ms  "
        f"max {r['max_ms']:.0f} ms",
        f"throughput {r['questions_per_second']:.1f} questions/s over {r['seconds']:.1f}s",
    ]
    lines += [f"  error: {e}" for e in r["error_examples"]]
    lines += [f"  differs: {m}" for m in r["mismatch_examples"]]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", help="a running app (default: start one here on a free loopback port)")
    parser.add_argument("--index", help="index to serve (default: build the default corpus into a temporary folder)")
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--questions", type=int, default=500, help="questions asked in all")
    parser.add_argument("--questions-file", type=Path, default=DEFAULT_QUESTIONS, help="jsonl with a 'question' field")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    questions = load_questions(args.questions_file)
    demo = None
    # The app started here prints its address and its closing on stdout: to stderr with them, so that stdout holds
    # only the figures (one JSON object with --json).
    with tempfile.TemporaryDirectory() as tmp, contextlib.redirect_stdout(sys.stderr):
        url = args.url
        if not url:
            index = Path(args.index) if args.index else Path(tmp) / "index"
            if not args.index:
                from qa.indexing.build import build_index

                build_index(ROOT / "corpus", index)
            demo, url = start_app(index, Path(tmp) / "uploads")
        try:
            result = run_load(url, questions, args.clients, args.questions)
        finally:
            if demo is not None:
                demo.close()
    print(json.dumps(result, indent=2) if args.json else format_report(result))
    return 0 if result["errors"] == 0 and result["mismatches"] == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
