from qa.candidates import FEATURES, abstain_below, best_span, entity_spans, ranker_weights, window_overlap
from qa.evidence import Sentence, content_stems
from qa.questions import question_type


def sentence(text, score=1.0, start=0):
    return Sentence("d", "T", None, None, start, start + len(text), text, 1, dense=0.5, lexical=0.5, score=score)


def test_window_overlap_rewards_nearby_question_words():
    text = "The treaty was signed in Paris while talks went on in Rome for many long weeks afterwards."
    weights = {"sign": 1.0, "treaty": 1.0}
    paris = text.index("Paris")
    rome = text.index("Rome")
    assert window_overlap(text, paris, paris + 5, {"signed": 1.0}) > window_overlap(
        text, rome, rome + 4, {"signed": 1.0}
    )
    assert window_overlap(text, 0, 3, {}) == 0.0
    assert 0.0 <= window_overlap(text, paris, paris + 5, weights) <= 1.0


def test_typed_candidates_and_lists():
    q = "Which countries would join the talks?"
    s = sentence("The talks would involve Armenia, Azerbaijan and Georgia, officials in Moscow said.", start=50)
    spans = entity_spans([s], question_type(q), {"join": 1.0, "talks": 1.0}, set(content_stems(q)))
    texts = [sp.text for sp in spans]
    assert "Armenia, Azerbaijan and Georgia" in texts
    for sp in spans:
        assert s.text[sp.start - 50 : sp.end - 50] == sp.text
        assert set(sp.features) <= set(FEATURES)
    assert best_span(spans).text == "Armenia, Azerbaijan and Georgia"


def test_question_words_are_not_answers():
    q = "Who met Sergei Lavrov?"
    s = sentence("Hussein Amir-Abdollahian met Sergei Lavrov in Moscow.")
    spans = entity_spans([s], question_type(q), {"met": 1.0, "sergei": 1.0, "lavrov": 1.0}, set(content_stems(q)))
    assert "Sergei Lavrov" not in [sp.text for sp in spans]
    assert best_span(spans).text == "Hussein Amir-Abdollahian"


def test_ranker_weights_load():
    weights, bias = ranker_weights()
    assert set(weights) == set(FEATURES) and bias < 0
    assert 0.0 < abstain_below() < 1.0


def test_phrase_naming_the_head_noun_wins_untyped_questions():
    q = "What treaty would keep foreign forces out of the region?"
    qtype = question_type(q)
    stems = set(content_stems(q)) - {"treaty"}
    s = sentence("Russia backed efforts to keep foreign forces out of the region through a pan-Caspian Sea treaty.")
    spans = entity_spans([s], qtype, {"keep": 1.0, "foreig": 1.0, "forces": 1.0, "region": 1.0}, stems)
    assert "pan-Caspian Sea treaty" in best_span(spans).text
