"""The extractive reader on real text: exact offsets, no-answer scores, windows, int8 against float32."""

import pytest

from qa.answer.reader import MAX_ANSWER_TOKENS, get_reader, padding_groups

PASSAGES = [
    "Iranian Foreign Minister Hussein Amir-Abdollahian met his Russian counterpart Sergei Lavrov in Moscow on "
    "Wednesday. Lavrov, for his part, said Russia was supportive of the talks. He revealed a proposal to hold "
    "“3+3” discussions with the participation of Armenia, Azerbaijan and Georgia.",
    "The Normans were the people who in the 10th and 11th centuries gave their name to Normandy, a region in "
    "France. They were descended from Norse raiders and pirates from Denmark, Iceland and Norway.",
]
QUESTIONS = [
    ("Where did the foreign ministers meet?", "Moscow"),
    ("In what country is Normandy located?", "France"),
    ("Which countries would join the 3+3 discussions?", "Armenia, Azerbaijan and Georgia"),
    ("From which countries did the Norse originate?", "Denmark, Iceland and Norway"),
]


@pytest.fixture(scope="module")
def reader():
    return get_reader()


def test_spans_have_exact_offsets(reader):
    for question, _ in QUESTIONS:
        reading = reader.read(question, PASSAGES)
        assert reading.spans
        for span in reading.spans:
            assert PASSAGES[span.passage][span.start : span.end] == span.text
            assert span.gap == pytest.approx(span.score - span.no_answer)
        gaps = [s.gap for s in reading.spans]
        assert gaps == sorted(gaps, reverse=True), "best span first"


@pytest.mark.parametrize("question,answer", QUESTIONS)
def test_reads_the_answer(reader, question, answer):
    best = reader.read(question, PASSAGES).best
    assert best is not None and best.text == answer
    assert best.gap > 0, "an answer the passage holds beats no-answer"


def test_unanswerable_question_prefers_no_answer(reader):
    best = reader.read("What is the capital of Australia?", PASSAGES).best
    assert best is None or best.gap < 0


def test_long_passages_are_read_in_overlapping_windows(reader):
    filler = "The weather was mild and the markets were quiet for most of the week. " * 40
    text = filler + "The treaty was signed in Dushanbe on Friday. " + filler
    best = reader.read("Where was the treaty signed?", [text]).best
    assert best.text == "Dushanbe"
    assert text[best.start : best.end] == "Dushanbe"
    assert len(reader.tokenizer.encode("q", text).overflowing) >= 3, "the passage needs several windows"


def test_spans_are_short(reader):
    for question, _ in QUESTIONS:
        for span in reader.read(question, PASSAGES).spans:
            assert (
                len(reader.question_tokenizer.encode(span.text, add_special_tokens=False).ids) <= MAX_ANSWER_TOKENS + 2
            )


def test_int8_and_float32_agree(reader):
    full = get_reader(None, "fp32")
    for question, _ in QUESTIONS:
        a, b = reader.read(question, PASSAGES).best, full.read(question, PASSAGES).best
        assert (a.passage, a.start, a.end) == (b.passage, b.start, b.end)
        assert a.gap == pytest.approx(b.gap, abs=1.5)


def test_no_passages_reads_nothing(reader):
    assert reader.read("Who?", []).spans == ()


def test_one_reader_per_process(reader):
    assert get_reader() is reader


def test_answers_stay_within_a_paragraph(reader):
    # The default article opens with a scraped header: its headline and subtitle are separated by a blank
    # line, and without the rule the reader answers with both ("Strategic Partnership Deal\n\nEastern Axis").
    from conftest import CORPUS

    header = next(CORPUS.glob("*.txt")).read_text(encoding="utf-8")[:400]
    assert "Deal\n\nEastern Axis" in header
    reading = reader.read("What is the name of the document Iran and Russia are finalizing?", [header], top=20)
    assert reading.spans
    for sp in reading.spans:
        assert "\n\n" not in sp.text, sp.text


def test_short_windows_run_apart_only_when_that_saves_padding():
    # Two full windows and two short overflow windows: the short ones run in a batch of their own.
    assert padding_groups([224, 40, 224, 60]) == [[1, 3], [0, 2]]
    # Near-equal lengths stay one batch.
    assert padding_groups([224, 200, 210]) == [[0, 1, 2]]
    assert padding_groups([50]) == [[0]]
