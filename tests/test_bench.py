"""The benchmarks run end to end, each on its smallest setting, as on a new machine: the cache folder they use
does not exist yet. They report sane figures (no speed is asserted)."""

import gzip
import json
import lzma
import os
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import CORPUS, DEFAULT_ARTICLE, ROOT

from qa.encoders.models import bundled_model_path

RESULTS = ROOT / "bench" / "results"


@pytest.fixture(scope="module", autouse=True)
def fresh_cache(tmp_path_factory):
    """The cache folder of every benchmark run here ($QA_CACHE_DIR), missing at the start: the first run that needs
    the encoder or the reader makes them there (once for the module: converting the reader takes ~20 s)."""
    cache = tmp_path_factory.mktemp("bench") / "cache"
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("QA_CACHE_DIR", str(cache))
        yield cache


@pytest.fixture(scope="module")
def tiny_set(tmp_path_factory) -> Path:
    """An evaluation set of the default article and its 23 questions (5 of them unanswerable)."""
    folder = tmp_path_factory.mktemp("tiny-set")
    record = {
        "id": DEFAULT_ARTICLE.name,
        "title": "Iran and Russia",
        "text": DEFAULT_ARTICLE.read_text(encoding="utf-8"),
    }
    (folder / "corpus.jsonl").write_text(json.dumps(record) + "\n", encoding="utf-8")
    (folder / "questions.jsonl").write_bytes((ROOT / "tests" / "data" / "default_questions.jsonl").read_bytes())
    return folder


def run_bench(script: str, *args: str, timeout: int = 300) -> subprocess.CompletedProcess:
    """Run `bench/<script> ...` as a user would, whatever its exit status."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    cmd = [sys.executable, f"bench/{script}", *args]
    return subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, env=env, timeout=timeout)


def bench(script: str, *args: str, timeout: int = 300) -> str:
    """Run `bench/<script> ...` as a user would; what it printed on stdout."""
    proc = run_bench(script, *args, timeout=timeout)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return proc.stdout


def bench_json(script: str, *args: str, timeout: int = 300) -> dict:
    """Run `bench/<script> ... --json` and return the figures it printed."""
    return json.loads(bench(script, *args, "--json", timeout=timeout))


def test_build_and_search_reports_throughput_and_latency():
    r = bench_json("build_and_search.py", str(CORPUS), "--queries", "5")
    assert r["documents"] == 1 and r["chunks"] >= 5 and r["tokens"] > 500
    assert r["chunks_per_s"] > 0 and r["tokens_per_s"] > r["chunks_per_s"]
    # int8 kernels can beat the float32 matmul the fraction is measured against, so no upper bound.
    assert r["build_fraction_of_matmul_limit"] > 0 and r["matmul_gflops"] > 0
    assert r["encoder"] == "onnx-int8"
    assert r["queries"] == 5 and 0 < r["retrieve"]["p50_ms"] <= r["retrieve"]["p95_ms"]
    assert 0 < r["answer"]["p50_ms"] <= r["answer"]["p95_ms"]


def test_as_typed_copies_a_set_typed_with_slips_lead_ins_or_trailers_that_answering_reads_through(tiny_set, tmp_path):
    from qa.answer.spelling import one_slip_away

    out = tmp_path / "slipped"
    r = bench_json("as_typed.py", str(tiny_set), str(out), "--seed", "3")
    assert r["questions"] == 23 and r["changed"] == 23 and r["typed_with"] == "slips"
    asked = [json.loads(line) for line in (tiny_set / "questions.jsonl").read_text().splitlines()]
    slipped = [json.loads(line) for line in (out / "questions.jsonl").read_text().splitlines()]
    for a, b in zip(asked, slipped):
        assert {k: v for k, v in a.items() if k != "question"} == {k: v for k, v in b.items() if k != "question"}
        changed = [(x, y) for x, y in zip(a["question"].split(), b["question"].split()) if x != y]
        assert len(changed) == 1 and changed[0][1] in one_slip_away(changed[0][0]), changed
    again = tmp_path / "again"
    bench_json("as_typed.py", str(tiny_set), str(again), "--seed", "3")
    assert (again / "questions.jsonl").read_text() == (out / "questions.jsonl").read_text(), "seeded"
    led = tmp_path / "led"
    assert bench_json("as_typed.py", str(tiny_set), str(led), "--lead-ins")["typed_with"] == "lead-ins"
    for a, b in zip(asked, (json.loads(line) for line in (led / "questions.jsonl").read_text().splitlines())):
        assert b["question"].lower().endswith(a["question"].lower()) and len(b["question"]) > len(a["question"])
    trailed = tmp_path / "trailed"
    assert bench_json("as_typed.py", str(tiny_set), str(trailed), "--trailers")["typed_with"] == "trailers"
    for a, b in zip(asked, (json.loads(line) for line in (trailed / "questions.jsonl").read_text().splitlines())):
        assert b["question"].startswith(a["question"] + " ")
    for folder in (out, led, trailed):
        evaluated = json.loads(
            subprocess.run(
                [sys.executable, "-m", "qa.cli", "eval", str(folder), "--json"],
                cwd=ROOT,
                capture_output=True,
                text=True,
                env={**os.environ, "PYTHONPATH": str(ROOT)},
                timeout=300,
                check=True,
            ).stdout
        )
        assert evaluated["n_questions"] == 23 and evaluated["answers"]["f1"] > 0.5


CITIES = ("Geneva", "Vienna", "Oslo", "Lima", "Quito", "Accra", "Hanoi", "Riga", "Perth", "Cork")


def tiny_training_data(path: Path) -> Path:
    """Thirty examples in the training data's format (three articles of ten paragraphs), written to `path`."""
    rows = []
    for i in range(30):
        city = CITIES[i % 10]
        context = f"Report {i}. The committee met in {city} on Monday. Its chair, Anna Berg, opened the session."
        rows.append(
            {
                "id": str(i),
                "source": "squad_v1.1_train",
                "title": f"T{i % 3}",
                "context": context,
                "question": f"Where did the committee of report {i} meet?",
                "answers": [city],
                "answer_starts": [context.index(city)],
            }
        )
    with (gzip.open if path.suffix == ".gz" else open)(path, "wt") as f:
        f.write("".join(json.dumps(r) + "\n" for r in rows))
    return path


def test_train_reader_runs_end_to_end_and_ships(tmp_path):
    """A few dozen examples through the training script, then the shipping step into a scratch folder."""
    data = tiny_training_data(tmp_path / "train.jsonl")
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    out = tmp_path / "run"
    cmd = [sys.executable, "bench/train_reader.py", "--data", str(data), "--out", str(out), "--batch", "8"]
    proc = subprocess.run(
        cmd + ["--checkpoint-every", "2"], cwd=ROOT, capture_output=True, text=True, env=env, timeout=600
    )
    assert proc.returncode == 0, proc.stderr
    assert (out / "checkpoint.pt").is_file() and (out / "hf" / "model.safetensors").is_file()
    log = (out / "train.log").read_text()
    assert "windows" in log and "saved" in log
    # Resuming a finished run trains no further step and saves the same model again.
    proc = subprocess.run(cmd + ["--resume"], cwd=ROOT, capture_output=True, text=True, env=env, timeout=600)
    assert proc.returncode == 0 and "resumed at step" in (out / "train.log").read_text()
    ship = tmp_path / "shipped"
    proc = subprocess.run(
        [sys.executable, "bench/ship_reader.py", str(out / "hf"), "--target", str(ship)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr
    assert {p.name for p in ship.iterdir()} >= {"weights.safetensors", "config.json", "reader.json"}


def test_a_gpu_kit_trains_the_reader_from_prepared_rows_and_its_weights_come_back_whole(tmp_path):
    """The kit's way end to end on this machine's CPU: examples prepared to a file, the base model's part packed,
    bench/gpu_train.sh trains the reader from the shipped one and writes the weights in parts, and `collect` joins them
    into a reader folder with the bundled model's own word embeddings."""
    import numpy as np
    from safetensors.numpy import load_file

    from qa.answer.reader_model import SHIPPED_READER
    from qa.encoders.models import bundled_model_path

    kit, out = tmp_path / "kit", tmp_path / "out"
    data = tiny_training_data(tmp_path / "train.jsonl")
    bench("train_reader.py", "--data", str(data), "--write-rows", str(kit / "rows.jsonl.xz"))
    bench("gpu_kit.py", "pack", str(kit))
    base = load_file(str(bundled_model_path() / "model.safetensors"))["embeddings.word_embeddings.weight"]
    assert set(load_file(str(kit / "base" / "packed.safetensors"))) == {
        "embeddings.word_embeddings.weight",
        "embeddings.word_embeddings.weight.scale",
    }
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    cmd = ["bash", "bench/gpu_train.sh", "reader", str(kit), str(out), "0.05", "--batch", "8", "--epochs", "1"]
    proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, env=env, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    with lzma.open(kit / "rows.jsonl.xz", "rt") as f:
        prepared = sum(1 for _ in f)
    assert prepared > 30 and f"{prepared} examples" in (out / "train.log").read_text()
    pieces = sorted(out.glob("model.tar.*"))
    assert len(pieces) == 2 and all(p.stat().st_size <= 15_000_000 for p in pieces)
    hf = Path(bench("gpu_kit.py", "collect", str(out), str(tmp_path / "reader")).strip())
    trained = load_file(str(hf / "model.safetensors"))
    assert np.array_equal(trained["bert.embeddings.word_embeddings.weight"], base)
    shipped = load_file(str(SHIPPED_READER / "weights.safetensors"))
    assert set(shipped) == set(trained) - {"bert.embeddings.word_embeddings.weight"}
    moved = [n for n in shipped if not np.array_equal(trained[n].astype(np.float16), shipped[n])]
    assert "qa_outputs.weight" in moved and len(moved) > len(shipped) // 2
    # A reader's kit is no encoder's: a clear message, no traceback.
    proc = subprocess.run(
        ["bash", "bench/gpu_train.sh", "encoder", str(kit), str(out)], cwd=ROOT, capture_output=True, text=True
    )
    assert proc.returncode == 2 and "is not a kit for the encoder" in proc.stderr and "--whole" in proc.stderr


def test_a_gpu_kit_trains_both_sides_of_the_encoder_from_prepared_pairs(tmp_path):
    """The encoder's kit end to end on this machine's CPU: pairs with their hard negatives prepared to a file, the
    whole base model packed, bench/gpu_train.sh trains both sides, and `collect` gives back a
    sentence-transformers folder with the bundled word embeddings whose vectors differ from the base model's."""
    import numpy as np
    from safetensors.numpy import load_file
    from sentence_transformers import SentenceTransformer

    from qa.encoders.models import bundled_model_path

    kit, out = tmp_path / "kit", tmp_path / "out"
    data = tiny_training_data(tmp_path / "train.jsonl.gz")
    bench("train_encoder.py", "--both-sides", "--train", str(data), "--write-rows", str(kit / "pairs.json.xz"))
    with lzma.open(kit / "pairs.json.xz", "rt") as f:
        pairs = json.load(f)
    # Every question has a hard negative: a paragraph of its own article without its answer.
    assert len(pairs["rows"]) == 30 and all(r["negative"] is not None for r in pairs["rows"])
    for r in pairs["rows"]:
        assert "Where did" in r["question"] and pairs["texts"][r["negative"]] != pairs["texts"][r["positive"]]
    bench("gpu_kit.py", "pack", str(kit), "--whole")
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    cmd = ["bash", "bench/gpu_train.sh", "encoder", str(kit), str(out), "0.5", "--batch", "4", "--dev-share", "0"]
    proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, env=env, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "30 training questions" in (out / "train.log").read_text()
    model = Path(bench("gpu_kit.py", "collect", str(out), str(tmp_path / "encoder")).strip())
    bundled = bundled_model_path()
    trained = load_file(str(model / "model.safetensors"))
    base = load_file(str(bundled / "model.safetensors"))
    assert np.array_equal(trained["embeddings.word_embeddings.weight"], base["embeddings.word_embeddings.weight"])
    texts = ["Where did the committee meet?", "The committee met in Geneva on Monday."]
    before = SentenceTransformer(str(bundled), device="cpu").encode(texts)
    after = SentenceTransformer(str(model), device="cpu").encode(texts)
    assert after.shape == before.shape and not np.allclose(after, before, atol=1e-4)


def test_swapped_questions_ask_about_what_the_paragraph_does_not_hold():
    from bench.train_reader import add_swap_negatives

    context = "In 1998 the Geneva committee, chaired by Anna Berg, met 12 times before its report."
    rows = [
        {"id": "a", "question": "How often did the Geneva committee meet?", "answers": ["12 times"]},
        {"id": "b", "question": "Who chaired the committee in 1998?", "answers": ["Anna Berg"]},
        {"id": "c", "question": "What did Lisbon decide?", "answers": ["nothing"]},  # no name the paragraph holds
        {"id": "d", "question": "Who chaired the Geneva committee?", "answers": []},  # already unanswerable
    ]
    rows = [{**r, "context": context, "answer_starts": [0] * len(r["answers"])} for r in rows]
    pool = rows + [{"question": "Where did Carl Olsen work in Oslo?"}]
    out = add_swap_negatives(rows, 1.0, seed=3, pool=pool)
    assert out[:4] == rows, "the examples given are kept as they were"
    made = {r["id"]: r for r in out[4:]}
    assert set(made) == {"a-swap", "b-swap"}
    for r in made.values():
        original = next(o for o in rows if o["id"] == r["id"][:-5])["question"]
        assert r["answers"] == [] and r["answer_starts"] == [] and r["context"] == context
        gone = set(original.rstrip("?").split()) - set(r["question"].rstrip("?").split())
        came = set(r["question"].rstrip("?").split()) - set(original.rstrip("?").split())
        assert len(gone) == 1 and gone <= set(context.split()), (original, r["question"])
        assert came and not came & set(context.split()), (original, r["question"])


def test_news_questions_are_read_over_the_chunks_of_their_article():
    from bench.common import news_fold
    from bench.train_reader import news_rows, paraphrased

    sentences = [f"Item {i} of the report covers the harbour works in detail and at length." for i in range(40)]
    sentences[25] = "The harbour works were led by engineer Maria Lopez from the city of Vigo."
    text = " ".join(sentences)
    start = text.index("Maria Lopez")
    questions = [
        {"id": "q1", "question": "Who led the harbour works?", "answers": ["Maria Lopez"], "answer_starts": [start]},
        {"id": "q2", "question": "How much did the harbour works cost?", "answers": [], "answer_starts": []},
    ]
    questions = [{**q, "doc_id": "d1"} for q in questions]
    rows = news_rows(questions, {"d1": text}, seed=1, negatives=2)
    answered = [r for r in rows if r["id"].startswith("q1") and r["answers"]]
    assert answered, "the chunk holding the answer is a training row"
    for r in answered:
        at = r["answer_starts"][0]
        assert r["context"][at : at + len("Maria Lopez")] == "Maria Lopez" and r["context"] in text
        assert len(r["context"]) < len(text), "a chunk, not the whole article"
    unanswerable = [r for r in rows if r["id"].startswith("q2")]
    assert len(unanswerable) == 2 and all(not r["answers"] and r["context"] in text for r in unanswerable)
    assert all("Maria Lopez" not in r["context"] for r in rows if not r["answers"])
    original = [{"id": "s1", "question": "Who is named?", "context": "x", "answers": ["x"], "answer_starts": [0]}]
    made = paraphrased(original + [{**original[0], "id": "s2"}], [{"id": "s1", "question": "Whose name comes up?"}])
    assert made == [{**original[0], "id": "s1-para", "question": "Whose name comes up?"}]
    # Folds are fixed by the article's id, the same in every script and run.
    assert news_fold("wn-0103") == news_fold("wn-0103") and {news_fold(f"wn-{i:04d}") for i in range(50)} == set(
        range(5)
    )


def test_html_extraction_reports_boilerplate_answers_and_build_cost(tmp_path):
    records = [
        {
            "doc_id": f"wn-{i}",
            "title": f"Bridge {i} reopens",
            "date": "2020-01-0{i}",
            "url": f"https://news.example/{i}",
            "text": f"Monday, January {i}, 2020\n\nBridge {i} over the river reopened on Monday after repairs that "
            "took eleven months.\n\nThe mayor said traffic would return to normal within a week.",
        }
        for i in (1, 2, 3)
    ]
    small = tmp_path / "wikinews.jsonl"
    small.write_text("\n".join(json.dumps(r) for r in records), encoding="utf-8")
    r = bench_json("html_extraction.py", "--wikinews", str(small), "--repeat", "1", timeout=600)
    before, after = r["boilerplate"]["before"], r["boilerplate"]["after"]
    assert before["pages"] == after["pages"] == 5
    assert after["boilerplate_sentences_indexed"] < before["boilerplate_sentences_indexed"]
    assert after["article_sentences_kept"] == after["article_sentences"]
    assert len(r["answers"]["before"]) == len(r["answers"]["after"]) > 0
    t = r["throughput"]
    assert t["before"]["pages"] == t["after"]["pages"] == 3
    assert t["after"]["paragraphs_kept"] >= t["after"]["paragraphs"] - 3  # datelines may go
    assert t["before"]["build_best_s"] > 0 and t["after"]["build_best_cpu_s"] > 0
    assert "build_time_growth" in t and "load_share_growth" in t


def test_cluster_bench_in_process_parts_report_builds_and_shard_latency():
    r = bench_json("cluster.py", str(CORPUS), "--queries", "5", "--shards", "1,2", "--no-ray")
    assert r["chunks"] >= 5 and set(r["builds"]) == {"in-process", "2 local processes"}
    assert all(b["chunks_per_s"] > 0 for b in r["builds"].values())
    assert set(r["retrieve"]) == {"unsharded", "1 shards, threads", "2 shards, threads"}
    assert all(0 < p["p50_ms"] <= p["p95_ms"] for p in r["retrieve"].values())
    # Two copies of the corpus, each article under its own id: twice the chunks, and no searches with --shards 0.
    twice = bench_json("cluster.py", str(CORPUS), "--copies", "2", "--shards", "0", "--no-ray")
    assert twice["chunks"] == 2 * r["chunks"] and twice["copies"] == 2 and twice["retrieve"] == {}


def test_article_list_bench_times_a_page_against_the_whole_list():
    one, two = bench_json("article_list.py", "--documents", "120", "--shards", "2", "--repeat", "1")["runs"]
    assert (one["documents"], one["shards"], two["documents"], two["shards"]) == (121, 1, 121, 2)
    for run in (one, two):
        keys = ("first_page_whole_list_ms", "first_page_ms", "search_first_page_ms", "last_page_ms")
        assert all(run[k] > 0 for k in keys)


def test_million_builds_its_cached_index_in_a_cache_folder_that_does_not_exist_yet(tiny_set, tmp_path, monkeypatch):
    cache = tmp_path / "new-machine" / "cache"  # its own: the folder the index is built in must not exist yet
    monkeypatch.setenv("QA_CACHE_DIR", str(cache))
    out = bench("million.py", "--chunks", "2000", "--queries", "5", "--set", str(tiny_set), "--no-embed")
    assert "Projected to 10,000,000 chunks" in out
    assert (cache / "bench" / "index-2000" / "built.json").is_file()
    r = json.loads((RESULTS / "million.json").read_text())
    assert r["load"]["chunks"] >= 2000 and r["recall"]["repeated_queries"] == 5
    assert 0 < r["load"]["times"]["retrieve"]["p50_ms"] and "real_recall" not in r["recall"]


def test_peers_runs_this_project_alone_without_the_peers_installed(tiny_set):
    out = bench("peers.py", "--systems", "qa,qa-minilm", "--quick", "--set", str(tiny_set), timeout=600)
    assert "Recall@1" in out and "Scale: " in out and "Goals" in out
    assert "qa/qa-minilm" in out and "Recall@1 above qa-minilm" not in out
    r = json.loads((RESULTS / "peers.json").read_text())
    assert set(r["systems"]) == {"qa", "qa-minilm"} and r["scale"]["chunks"] >= 3000


def test_peers_says_which_encoder_this_project_and_the_ours_rows_embed_with(tiny_set):
    model = str(bundled_model_path())
    out = bench(
        "peers.py", "--systems", "qa,qa-minilm", "--quick", "--no-scale", "--model", model, "--set", str(tiny_set)
    )
    assert f"this project's encoder ({model}) in qa and the -ours rows" in out
    proc = run_bench("peers.py", "--model", str(tiny_set / "none"), "--quick")
    assert proc.returncode == 2 and "no such folder" in proc.stderr and "Traceback" not in proc.stderr


def test_soak_answers_every_question_alike_under_concurrent_clients():
    r = bench_json("soak.py", "--clients", "2", "--questions", "4")
    assert (r["answered"], r["errors"], r["mismatches"]) == (4, 0, 0)
    assert 0 < r["p50_ms"] <= r["p95_ms"]


def test_eval_reader_scores_the_reader_on_gold_paragraphs(tiny_set):
    r = bench_json("eval_reader.py", str(tiny_set), "--limit", "8")
    assert r["questions"] == 8 and 0 < r["always_answer"]["f1"] <= 1 and r["read_ms_p50"] > 0


def test_tune_answers_fits_the_abstention_model_without_writing_it(tiny_set):
    out = bench("tune_answers.py", str(tiny_set), "--folds", "2")
    assert "chosen: SURE_GAP" in out and "weights (standardised):" in out


def test_tune_answers_answers_as_much_as_the_abstention_floors_allow(tiny_set, tmp_path):
    readings = tmp_path / "readings"

    def tune(floors: str) -> str:
        return bench(
            "tune_answers.py",
            str(tiny_set),
            "--folds",
            "2",
            "--readings",
            str(readings),
            "--min-abstention",
            f"{tiny_set.name}={floors}",
        )

    # Floors of 0 are met by answering everything, so the threshold is the lowest there is.
    assert "answering at probability 0.000:" in tune("0,0")
    # Floors no threshold meets fall back to overall F1, and say so.
    assert "no threshold meets every --min-abstention floor" in tune("1.01")
    proc = run_bench("tune_answers.py", str(tiny_set), "--readings", str(readings), "--min-abstention", "other=0.6")
    assert proc.returncode == 2 and "names sets not given: other" in proc.stderr


def test_changing_counts_the_newest_report_answers(tmp_path):
    """A story on three dates, its toll rising; one question whose newest report says 1,217."""
    corpus_set = tmp_path / "articles"
    corpus_set.mkdir()
    rows = [("t1", "2020-03-02", "54"), ("t2", "2020-03-20", "1,124"), ("t3", "2020-04-07", "1,217")]
    records = []
    for doc_id, day, toll in rows:
        text = f"Rain kept falling in Vardania. The floods in Vardania have killed {toll} people, the agency said."
        records.append({"id": doc_id, "title": f"Flood report {doc_id}", "published": day, "text": text})
    (corpus_set / "corpus.jsonl").write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    (corpus_set / "questions.jsonl").write_text("", encoding="utf-8")
    set_dir = tmp_path / "changing"
    set_dir.mkdir()
    reports = [{"doc_id": d, "date": day, "answer": toll} for d, day, toll in rows]
    question = {"id": "c1", "question": "How many people have the floods in Vardania killed?", "reports": reports}
    (set_dir / "questions.jsonl").write_text(json.dumps({**question, "latest": "t3"}) + "\n", encoding="utf-8")
    r = bench_json("changing.py", str(set_dir), "--corpus-set", str(corpus_set))
    assert r["questions"] == 1 and r["newest_answers"] == 1 and r["older_answers"] == 0
    assert r["with_as_of"] == 1 and r["with_earlier"] == 1


def test_whole_lists_widens_an_item_of_a_list_answer_to_the_whole_list(tmp_path):
    text = DEFAULT_ARTICLE.read_text(encoding="utf-8")
    corpus = tmp_path / "corpus.jsonl"
    corpus.write_text(json.dumps({"id": "a", "title": "Iran and Russia", "text": text}) + "\n", encoding="utf-8")
    gold = "Armenia, Azerbaijan and Georgia"
    questions = tmp_path / "questions.jsonl"
    rows = [
        {"id": "q1", "question": "Which republics would join the talks?", "kind": "list", "doc_id": "a"},
        {"id": "q2", "question": "Which republic is named first?", "kind": "fact", "doc_id": "a"},
    ]
    answers = [gold, "Armenia"]
    lines = [json.dumps({**r, "answers": [a], "answer_starts": [text.index(gold)]}) for r, a in zip(rows, answers)]
    questions.write_text("\n".join(lines) + "\n", encoding="utf-8")
    r = bench_json("whole_lists.py", "--questions", str(questions), "--corpus", str(corpus))
    assert r["items"] == 3 and r["f1_widened"] == 1.0 and r["f1_item"] < 0.6
    assert r["asking_for_several"] == 1 and r["gold_spans_changed"] == 0
