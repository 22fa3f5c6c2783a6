"""`qa eval`: SQuAD scores, gold-document ranks, and whole runs over a small real set built here."""

import json
import os
import stat
import subprocess
import sys

import pytest
from conftest import ROOT

from qa.errors import InputError
from qa.evaluation import (
    contains_answer,
    default_index_dir,
    evaluate_set,
    exact_match,
    format_report,
    normalize_answer,
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
    assert set(result) == {"retrieval", "reranked", "answers", "abstention", "n_questions", "n_answerable"}
    assert set(result["retrieval"]) == set(result["reranked"]) == {"recall@1", "recall@5", "recall@10", "mrr@10"}
    assert set(result["answers"]) == {"exact_match", "f1", "span_hit@1"}
    assert set(result["abstention"]) == {"precision", "recall"}
    assert (result["n_questions"], result["n_answerable"]) == (4, 3)
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
