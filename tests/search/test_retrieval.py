import numpy as np
import pytest
from conftest import ROOT

from qa.errors import InputError
from qa.search.retrieval import fuse, query_terms


def test_three_plus_three_passage_first(default_index):
    passages = default_index.retrieve("who proposed the 3+3 format?", k=5)
    assert len(passages) == 5
    assert "3+3" in passages[0].text
    assert [p.rank for p in passages] == [1, 2, 3, 4, 5]
    assert passages[0].score >= passages[-1].score
    for p in passages:
        doc = default_index.document(p.doc_id)
        assert doc.text[p.start : p.end] == p.text
        assert p.title == doc.title and p.published == "2021-10-11" and p.source == "kayhan.ir"


@pytest.mark.parametrize(
    "question,needle",
    [
        ("COVID-19 self-isolating", "COVID-19"),
        ("Amir-Abdollahian press briefing", "Amir-Abdollahian"),
        ("“3+3” discussions", "3+3"),
        ("Which organization accepted Iran as a new member?", "Shanghai Cooperation Organization"),
    ],
)
def test_tokens_with_punctuation_match(default_index, question, needle):
    assert needle in default_index.retrieve(question, k=1)[0].text


def test_query_terms_drop_question_words():
    assert query_terms("Who proposed the “3+3” format?") == ["proposed", "3_3", "3", "format"]


def _by_id(fused):
    return dict(zip(fused.ids.tolist(), fused.scores.tolist()))


def test_fusion_rewards_agreement():
    fused = _by_id(fuse([(1, 0.8), (2, 0.7), (3, 0.6)], [(3, 9.0), (1, 8.0), (4, 2.0)]))
    assert max(fused, key=fused.get) == 1
    assert fused[4] < fused[3]


def test_fusion_weighs_margins_not_just_ranks():
    # Chunk 2 is barely behind in meaning but far ahead lexically: it wins, as the scores say.
    fused = _by_id(fuse([(1, 0.62), (2, 0.60)], [(2, 12.0), (1, 1.0)]))
    assert max(fused, key=fused.get) == 2
    # With no lexical hits the dense order stands, and unseen chunks get nothing.
    assert sorted(_by_id(fuse([(5, 0.9), (6, 0.4)], [])).items(), key=lambda kv: -kv[1])[0][0] == 5
    assert _by_id(fuse([], [])) == {}


def test_fused_scores_are_the_weighted_sum_to_the_bit():
    """Per chunk: weight x similarity (the lowest seen where dense search missed it) + (1 - weight) x BM25 / best
    BM25, computed in double precision as Python computes it; similarity -1 marks chunks dense search missed."""
    rng = np.random.default_rng(3)
    dense = [(int(i), float(s)) for i, s in zip(rng.choice(400, 50, replace=False), rng.random(50))]
    lexical = [(int(i), float(np.float32(s))) for i, s in zip(rng.choice(400, 60, replace=False), 20 * rng.random(60))]
    fused = fuse(dense, lexical, dense_weight=0.6)
    sim, lex = dict(dense), dict(lexical)
    floor, best = min(sim.values()), max(lex.values())
    assert fused.ids.tolist() == sorted(sim.keys() | lex.keys())
    for i in fused.ids.tolist():
        want = 0.6 * sim.get(i, floor) + (1.0 - 0.6) * (lex[i] / best if i in lex else 0.0)
        assert fused.of(i) == (want, sim.get(i, -1.0))


def test_filters(default_index):
    assert default_index.retrieve("Iran", k=3, source="kayhan.ir")
    assert default_index.retrieve("Iran", k=3, source="nowhere.example") == []
    assert default_index.retrieve("Iran", k=3, published_from="2021-10-01", published_to="2021-10-31")
    assert default_index.retrieve("Iran", k=3, published_from="2022-01-01") == []


@pytest.mark.parametrize("bad", ["", "   ", "\x00\x01", None])
def test_bad_questions(default_index, bad):
    with pytest.raises(InputError):
        default_index.retrieve(bad)


def test_huge_question_is_cut_not_refused(default_index):
    assert default_index.retrieve("Lavrov " * 20000, k=1)


def test_bad_k(default_index):
    with pytest.raises(InputError):
        default_index.retrieve("Iran", k=0)


def test_module_level_retrieve(default_index_dir):
    import qa

    passages = qa.retrieve("who proposed the 3+3 format?", k=2, index=default_index_dir)
    assert "3+3" in passages[0].text


@pytest.fixture(scope="module")
def pages_index(tmp_path_factory):
    """An index of the saved news pages in tests/data/pages (five sites, five authors)."""
    from qa.index import load_index
    from qa.indexing.build import build_index

    path = tmp_path_factory.mktemp("pages") / "index"
    build_index(ROOT / "tests" / "data" / "pages", path)
    return load_index(path)


def test_author_and_site_filters(pages_index):
    everything = {p.doc_id for p in pages_index.retrieve("council vote funding", k=20)}
    assert len(everything) > 1
    by_author = pages_index.retrieve("council vote funding", k=20, author="okafor")
    assert {p.doc_id for p in by_author} == {"tram-line.html"}
    assert {p.author for p in by_author} == {"Samuel Okafor"}
    # A site by its name or its web host, with or without www.
    for site in ("Valley Gazette", "valleygazette.example", "www.valleygazette.example"):
        assert {p.doc_id for p in pages_index.retrieve("water", k=20, site=site)} == {"reservoir-drought.html"}
    assert pages_index.retrieve("water", k=5, author="Nobody Known") == []
    both = pages_index.retrieve("strike", k=5, author="Jane Doe", site="Valley Gazette")
    assert both == []
