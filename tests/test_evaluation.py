"""`qa eval`: SQuAD scores, gold-document ranks, and whole runs over a small real set built here."""

import json
import os
import stat
import subprocess
import sys

import pytest
from conftest import ROOT, shared_path

from qa.calibration import calibration
from qa.errors import InputError
from qa.evaluation import (
    RIGHT_F1,
    contains_answer,
    default_index_dir,
    evaluate_set,
    exact_match,
    format_report,
    normalize_answer,
    open_set_index,
    ranked_documents,
    token_f1,
)

ARTICLES = [
    {
        "id": "volcano",
        "title": "Mount Etna erupts again",
        "text": "Mount Etna, the tallest active volcano in Europe, erupted on Tuesday. "
        "Ash from the eruption closed Catania airport for six hours. "
        "The volcano is located on the east coast of Sicily.",
    },
    {
        "id": "chess",
        "title": "Chess final decided in Madrid",
        "text": "Magnus Carlsen won the chess final in Madrid after a tie-break. "
        "The final game lasted four hours and ended in a checkmate. "
        "The prize fund of the tournament was two million euros.",
    },
    {
        "id": "bakery",
        "title": "Bakery opens in Oslo",
        "text": "A new sourdough bakery opened in Oslo on Monday. "
        "Its owner, Ingrid Berg, trained as a baker in Lyon for ten years. "
        "The bakery sells rye bread and cinnamon buns.",
    },
]
QUESTIONS = [
    {
        "id": "q1",
        "question": "Which airport was closed by the ash from Mount Etna?",
        "answers": ["Catania airport", "Catania"],
        "doc_id": "volcano",
    },
    {"id": "q2", "question": "Who won the chess final in Madrid?", "answers": ["Magnus Carlsen"], "doc_id": "chess"},
    {
        "id": "q3",
        "question": "Where did the owner of the Oslo bakery train as a baker?",
        "answers": ["Lyon"],
        "doc_id": "bakery",
    },
    {
        "id": "q4",
        "question": "How many goals did the goalkeeper of the Oslo bakery team save?",
        "answers": [],
        "doc_id": "bakery",
    },
]


@pytest.fixture(scope="module")
def eval_set(tmp_path_factory):
    folder = tmp_path_factory.mktemp("set")
    (folder / "corpus.jsonl").write_text("\n".join(json.dumps(a) for a in ARTICLES) + "\n", encoding="utf-8")
    (folder / "questions.jsonl").write_text("\n".join(json.dumps(q) for q in QUESTIONS) + "\n", encoding="utf-8")
    return folder


def test_squad_normalisation_and_scores():
    assert normalize_answer("The  Eiffel Tower!") == "eiffel tower"
    assert exact_match("the Eiffel tower", ["Eiffel Tower"]) == 1.0
    assert exact_match("Paris", ["Eiffel Tower"]) == 0.0
    # Best over the gold answers; partial overlap gives the harmonic mean of precision and recall.
    assert token_f1("in the 10th century", ["10th and 11th centuries", "10th century"]) == pytest.approx(0.8)
    assert token_f1("", ["France"]) == 0.0


def test_span_hit_needs_whole_words():
    assert contains_answer("Ash from the eruption closed Catania airport.", ["catania AIRPORT"])
    assert not contains_answer("It cost 150 euros.", ["50"])


def test_documents_ranked_once_in_first_seen_order():
    assert ranked_documents(["a", "b", "a", "c", "b", "d"], depth=3) == ["a", "b", "c"]


def test_whole_run_reports_every_metric_and_reuses_its_index(eval_set):
    result = evaluate_set(eval_set, progress=False)
    assert set(result) == {
        "retrieval",
        "reranked",
        "answers",
        "abstention",
        "n_questions",
        "n_answerable",
        "by_kind",
        "calibration",
    }
    assert result["by_kind"] is None, "the set's questions have no kind"
    assert set(result["calibration"]) == {"ece", "count", "bands"} and len(result["calibration"]["bands"]) == 10
    assert set(result["retrieval"]) == set(result["reranked"]) == {"recall@1", "recall@5", "recall@10", "mrr@10"}
    assert set(result["answers"]) == {"exact_match", "f1", "span_hit@1", "overall_f1"}
    assert set(result["abstention"]) == {"precision", "recall"}
    assert (result["n_questions"], result["n_answerable"]) == (4, 3)
    answers, abstention = result["answers"], result["abstention"]
    # Three answerable questions and one unanswerable, which counts 1 when abstained on (its recall).
    assert answers["overall_f1"] == pytest.approx((3 * answers["f1"] + abstention["recall"]) / 4)
    for group in ("retrieval", "answers", "abstention"):
        assert all(0.0 <= v <= 1.0 for v in result[group].values())
    r = result["retrieval"]
    assert r["recall@1"] <= r["recall@5"] <= r["recall@10"] and r["mrr@10"] >= r["recall@1"]
    # Three articles on unrelated topics: the gold one comes first for these plain questions.
    assert r["recall@1"] == 1.0
    index = eval_set / ".index"
    generation = (index / "CURRENT").read_text()
    again = evaluate_set(eval_set, limit=2, progress=False)
    assert (index / "CURRENT").read_text() == generation, "an index matching the corpus is reused, not rebuilt"
    assert again["n_questions"] == 2
    text = format_report(result)
    assert "recall@5" in text and "span_hit@1" in text and "4 questions" in text


def test_a_resharded_default_index_is_reused(eval_set, tmp_path):
    from qa.indexing.shard_build import reshard_index

    folder = tmp_path / "set"
    folder.mkdir()
    for name in ("corpus.jsonl", "questions.jsonl"):
        (folder / name).write_bytes((eval_set / name).read_bytes())
    evaluate_set(folder, limit=1, progress=False)
    reshard_index(folder / ".index", 2)
    generation = (folder / ".index" / "CURRENT").read_text()
    result = evaluate_set(folder, progress=False)
    assert (folder / ".index" / "CURRENT").read_text() == generation, "the sharded index matches the corpus"
    assert result["retrieval"]["recall@1"] == 1.0


def test_read_only_set_builds_its_index_in_the_cache(eval_set, tmp_path, monkeypatch):
    ro = tmp_path / "ro"
    ro.mkdir()
    for name in ("corpus.jsonl", "questions.jsonl"):
        (ro / name).write_bytes((eval_set / name).read_bytes())
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.delenv("QA_CACHE_DIR", raising=False)  # which would come before XDG_CACHE_HOME
    ro.chmod(stat.S_IRUSR | stat.S_IXUSR)
    try:
        target = default_index_dir(ro)
        assert str(target).startswith(str(tmp_path / "cache"))
        result = evaluate_set(ro, limit=1, progress=False)
        assert result["n_questions"] == 1 and (target / "CURRENT").is_file()
        assert not (ro / ".index").exists()
    finally:
        ro.chmod(0o755)


def test_bad_sets_are_refused(tmp_path):
    with pytest.raises(InputError, match="questions.jsonl"):
        (tmp_path / "corpus.jsonl").write_text("{}\n")
        evaluate_set(tmp_path, progress=False)
    with pytest.raises(InputError, match="no evaluation set"):
        evaluate_set(tmp_path / "missing", progress=False)


def test_cli_prints_json_and_one_line_errors(eval_set):
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    cmd = [sys.executable, "-m", "qa.cli", "eval"]
    ok = subprocess.run([*cmd, str(eval_set), "--json", "--limit", "3"], capture_output=True, text=True, env=env)
    assert ok.returncode == 0, ok.stderr
    assert json.loads(ok.stdout)["n_questions"] == 3
    bad = subprocess.run([*cmd, str(eval_set / "nope")], capture_output=True, text=True, env=env)
    assert bad.returncode != 0 and "Traceback" not in bad.stderr
    assert len(bad.stderr.strip().splitlines()) == 1


KINDS = {"q1": "place", "q2": "name", "q3": "place", "q4": "unanswerable"}


def _eval_cli(*args, check=True):
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.run(
        [sys.executable, "-m", "qa.cli", "-q", "eval", *args], capture_output=True, text=True, env=env
    )
    if check:
        assert proc.returncode == 0, proc.stderr
    return proc


def _assert_details_agree(lines, result):
    """Each line's fields hold together, and the run's calibration is the one its lines give."""
    for d in lines:
        assert set(d) == {
            "id",
            "question",
            "kind",
            "gold",
            "answer",
            "best_guess",
            "confidence",
            "abstained",
            "f1",
            "cited_doc",
            "gold_doc",
        }
        shown = d["answer"] if not d["abstained"] else d["best_guess"]
        assert d["f1"] == (round(token_f1(d["answer"] or "", d["gold"]), 4) if d["gold"] else float(d["abstained"]))
        assert (d["cited_doc"] is None) == (shown is None)
    shown = [d for d in lines if (d["best_guess"] if d["abstained"] else d["answer"]) is not None]
    right = [bool(d["gold"]) and token_f1(d["answer"] or d["best_guess"], d["gold"]) >= RIGHT_F1 for d in shown]
    expected = calibration([d["confidence"] for d in shown], right)
    assert result["calibration"]["count"] == expected.count
    assert result["calibration"]["ece"] == pytest.approx(expected.ece, abs=1e-3)


def test_details_kinds_and_calibration_of_tentative_answers(eval_set, tmp_path, reader_with_thresholds):
    """With a reader that is never sure, every candidate is a tentative answer: the details show them, and
    the calibration counts them."""
    folder = tmp_path / "kinds"
    folder.mkdir()
    (folder / "corpus.jsonl").write_bytes((eval_set / "corpus.jsonl").read_bytes())
    (folder / "questions.jsonl").write_text(
        "".join(json.dumps({**q, "kind": KINDS[q["id"]]}) + "\n" for q in QUESTIONS)
    )
    details = tmp_path / "details.jsonl"
    unsure = str(reader_with_thresholds(0.999, 0.0))
    result = json.loads(_eval_cli(str(folder), "--json", "--details", str(details), "--reader", unsure).stdout)
    lines = [json.loads(line) for line in details.read_text().splitlines()]
    assert [d["id"] for d in lines] == [q["id"] for q in QUESTIONS]
    assert [d["kind"] for d in lines] == list(KINDS.values())
    assert all(d["abstained"] and d["answer"] is None for d in lines)
    by_id = {d["id"]: d for d in lines}
    assert "Carlsen" in by_id["q2"]["best_guess"] and by_id["q2"]["cited_doc"] == by_id["q2"]["gold_doc"] == "chess"
    assert result["calibration"]["count"] == sum(d["best_guess"] is not None for d in lines) >= 3
    _assert_details_agree(lines, result)
    # By kind: the same figures, over each kind's questions.
    assert set(result["by_kind"]) == {"place", "name", "unanswerable"}
    assert result["by_kind"]["place"]["n_questions"] == 2 and result["by_kind"]["unanswerable"]["n_answerable"] == 0
    assert set(result["by_kind"]["name"]) == set(result) - {"by_kind", "calibration"}
    assert result["by_kind"]["unanswerable"]["abstention"]["recall"] == 1.0
    text = _eval_cli(str(folder), "--reader", unsure).stdout
    assert "by kind:" in text and "unanswerable" in text and f"ECE {result['calibration']['ece']:.3f}" in text


def test_a_details_file_that_cannot_be_written_is_one_line(eval_set, tmp_path):
    proc = _eval_cli(str(eval_set), "--details", str(tmp_path / "missing" / "d.jsonl"), check=False)
    assert proc.returncode != 0 and "Traceback" not in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1 and "d.jsonl" in proc.stderr


def test_news_questions_are_reported_by_kind(tmp_path):
    """A few news-qa questions of each kind over the Wikinews articles: figures by kind, and the details."""
    corpus = shared_path("eval", "wikinews-dev", "corpus.jsonl")
    rows = [json.loads(line) for line in shared_path("train", "news-qa", "questions.jsonl").read_text().splitlines()]
    picked = []
    for kind in sorted({r["kind"] for r in rows}):
        picked += [r for r in rows if r["kind"] == kind][:2]
    folder = tmp_path / "news-qa"
    folder.mkdir()
    (folder / "corpus.jsonl").symlink_to(corpus)
    (folder / "questions.jsonl").write_text("".join(json.dumps(r) + "\n" for r in picked))
    details = tmp_path / "details.jsonl"
    # The Wikinews set's own index (built once, in the cache for a read-only set) serves this set too.
    open_set_index(corpus.parent, None, progress=False).close()
    result = evaluate_set(folder, default_index_dir(corpus.parent), progress=False, details=details)
    assert set(result["by_kind"]) == {r["kind"] for r in picked}
    assert all(f["n_questions"] == 2 for f in result["by_kind"].values())
    assert sum(f["n_answerable"] for f in result["by_kind"].values()) == result["n_answerable"]
    lines = [json.loads(line) for line in details.read_text().splitlines()]
    assert [d["kind"] for d in lines] == [r["kind"] for r in picked]
    _assert_details_agree(lines, result)
    text = format_report(result)
    assert all(kind in text for kind in result["by_kind"]) and "ECE" in text


def test_retrieval_only_with_the_index_models_questions(eval_set):
    result = json.loads(_eval_cli(str(eval_set), "--json", "--retrieval-only", "--question-model", "index").stdout)
    assert result["retrieval"]["recall@1"] == 1.0
    assert result["answers"] is None and result["abstention"] is None
    bad = _eval_cli(str(eval_set), "--retrieval-only", "--question-model", str(eval_set / "no-model"), check=False)
    assert bad.returncode != 0 and "Traceback" not in bad.stderr and "not a folder" in bad.stderr
