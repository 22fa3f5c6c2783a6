"""The abstention model: features of a real reading and the shipped weights."""

import json

import pytest

from qa.answer.abstention import (
    FEATURES,
    GUESS_AT,
    OWN_CALL,
    AbstentionModel,
    abstention_for,
    features,
    fits_question,
    load_model,
)
from qa.answer.answering import READ_PASSAGES, rank_spans
from qa.answer.reader import ReadSpan
from qa.answer.reader_model import SHIPPED_READER
from qa.errors import ModelError
from qa.records import Passage


def _passage(text: str, score: float, doc: str = "a") -> Passage:
    return Passage(0, doc, doc, None, None, 0, len(text), text, score)


def test_features_of_a_reading():
    texts = [
        "The summit took place in Tehran. Lavrov proposed the 3+3 format there.",
        "In an interview, the minister said Lavrov proposed it.",
    ]
    passages = [_passage(texts[0], 0.9), _passage(texts[1], 0.5, "b")]
    best = ReadSpan(0, texts[0].index("Lavrov"), texts[0].index("Lavrov") + 6, "Lavrov", 12.0, 2.0)
    same = ReadSpan(1, texts[1].index("Lavrov"), texts[1].index("Lavrov") + 6, "Lavrov", 9.0, 3.0)
    other = ReadSpan(1, 0, 15, "In an interview", 4.0, 3.0)
    x = dict(zip(FEATURES, features("Who proposed the 3+3 format?", passages, [best, same, other], best)))
    assert len(x) == len(FEATURES)
    assert x["gap"] == 10.0 and x["span_score"] == 12.0 and x["no_answer"] == 2.0
    assert x["agreeing"] == 1.0, "the second passage names the same person"
    assert x["runner_up"] == 10.0 - 1.0, "the best span saying something else beats no-answer by 1"
    assert x["first_passage"] == 1.0 and x["retrieval_share"] == 1.0
    assert x["retrieval_lead"] == pytest.approx(0.9 / 0.7), "the best score over the candidates' mean"
    assert x["question_in_span"] == 0.0 and x["fits_question"] == 1.0
    alone = dict(zip(FEATURES, features("Who proposed the 3+3 format?", passages, [best], best)))
    assert alone["agreeing"] == 0.0 and alone["runner_up"] == 10.0
    # A question in a reader's own words retrieves with lower scores all round: nothing changes.
    lower = [_passage(texts[0], 0.45), _passage(texts[1], 0.25, "b")]
    reworded = dict(zip(FEATURES, features("Who proposed the 3+3 format?", lower, [best, same, other], best)))
    assert reworded == x


def test_spans_agree_by_the_answer_they_give_when_told_what_each_says():
    texts = ["“The axis is emerging,” he adds.", "ministry spokesman Saeed Khatibzadeh"]
    passages = [_passage(texts[0], 0.9), _passage(texts[1], 0.8, "b")]
    quote = ReadSpan(0, 1, 19, "The axis is emerging", 9.0, 3.0)
    name = ReadSpan(1, 19, 36, "Saeed Khatibzadeh", 8.0, 3.0)
    spans = [quote, name]
    question = "Who said the axis is emerging?"
    by_words = dict(zip(FEATURES, features(question, passages, spans, quote)))
    assert by_words["agreeing"] == 0.0 and by_words["runner_up"] == 6.0 - 5.0
    # Cited, the quotation's answer is its speaker, the name the other passage gives.
    said = {quote: "Saeed Khatibzadeh", name: "Saeed Khatibzadeh"}
    by_answer = dict(zip(FEATURES, features(question, passages, spans, quote, lambda sp: said[sp])))
    assert by_answer["agreeing"] == 1.0 and by_answer["runner_up"] == 10.0
    assert {k: v for k, v in by_answer.items() if k not in ("agreeing", "runner_up")} == {
        k: v for k, v in by_words.items() if k not in ("agreeing", "runner_up")
    }


@pytest.mark.parametrize(
    "question, span, fits",
    [
        ("Who proposed it?", "Sergei Lavrov", 1.0),
        ("Who proposed it?", "the post-Soviet republics", 0.0),
        ("How many people died?", "39", 1.0),
        ("How many people died?", "dozens", 1.0),
        ("How many people died?", "the building", 0.0),
        ("When was the deal signed?", "on Monday", 1.0),
        ("When was the deal signed?", "in Moscow", 0.0),
        ("What did he sign?", "a deal", 0.5),
        # What is asked is read from the first wh-word when the question does not start with it.
        ("In 2001, who became the owner?", "Jan Tong", 1.0),
        ("The format was proposed by whom?", "the neighbours", 0.0),
        ("Besides the driver, how many staff worked?", "the guard", 0.0),
        ("What did the man who resigned say?", "Jan Tong", 0.5),
    ],
)
def test_a_span_fits_the_question_by_its_form(question, span, fits):
    assert fits_question(question, span) == fits


def test_probability_follows_the_weights():
    model = AbstentionModel(
        (0.0,) * len(FEATURES), (1.0,) * len(FEATURES), (1.0,) + (0.0,) * (len(FEATURES) - 1), 0.0, 0.5
    )
    x = [0.0] * len(FEATURES)
    assert model.probability(x) == pytest.approx(0.5)
    x[0] = 3.0
    assert model.probability(x) > 0.95
    x[0] = -1e9
    assert model.probability(x) < 1e-6, "no overflow on extreme values"


def test_shipped_model_loads_and_answers_a_sure_reading(default_index):
    model = abstention_for(default_index.reader.ref.folder)
    assert model == load_model(SHIPPED_READER / "abstention.json") != OWN_CALL
    assert 0.0 < model.answer_at < 1.0 and len(model.weights) == len(FEATURES)
    question = "Who joined the talks via video conference?"
    passages = default_index.retrieve(question, k=READ_PASSAGES)
    spans = default_index.reader.read(question, [p.text for p in passages]).spans
    best = rank_spans(spans, passages)[0][1]
    assert model.probability(features(question, passages, spans, best)) >= model.answer_at


def test_a_model_fitted_on_other_features_is_refused(tmp_path):
    path = tmp_path / "abstention.json"
    data = abstention_for(SHIPPED_READER).to_dict()
    data["features"] = ["gap"]
    path.write_text(json.dumps(data))
    with pytest.raises(ModelError, match="other features"):
        load_model(path)
    path.write_text("{")
    with pytest.raises(ModelError, match="reinstall"):
        load_model(path)


def test_a_reader_without_a_fitted_model_makes_its_own_call(tmp_path):
    assert abstention_for(tmp_path) is OWN_CALL
    x = [0.0] * len(FEATURES)
    x[0] = 0.1  # a span just beating no-answer
    assert OWN_CALL.probability(x) >= OWN_CALL.answer_at
    x[0] = -0.1
    assert OWN_CALL.probability(x) < OWN_CALL.answer_at


def test_the_guessing_threshold_is_kept_beside_the_answering_one(tmp_path):
    data = abstention_for(SHIPPED_READER).to_dict()
    data.pop("guess_at")
    old = tmp_path / "old" / "abstention.json"
    old.parent.mkdir()
    old.write_text(json.dumps(data))
    assert load_model(old).guess_at == GUESS_AT, "a file fitted before guess_at existed still loads"
    assert 0.0 < GUESS_AT < load_model(old).answer_at
    saved = tmp_path / "abstention.json"
    saved.write_text(json.dumps({**data, "guess_at": 0.125}))
    model = load_model(saved)
    assert model.guess_at == 0.125 and model.to_dict()["guess_at"] == 0.125


def test_thresholds_are_no_part_of_the_readers_conversion(reader_with_thresholds):
    """Readers that differ only in their abstention file share one ONNX conversion: none is made again."""
    from qa.answer.reader_model import converted_folder, resolve_reader

    unsure, never = resolve_reader(reader_with_thresholds(0.999, 0.0)), resolve_reader(reader_with_thresholds(0.5, 1.0))
    assert unsure.folder != never.folder and unsure.id == never.id
    assert converted_folder(unsure) == converted_folder(never)
    assert abstention_for(unsure.folder).answer_at == 0.999 and abstention_for(never.folder).guess_at == 1.0
