"""The extractive reader on real text: exact offsets, no-answer scores, windows, int8 against float32."""

import pytest

from qa.answer.reader import MAX_ANSWER_TOKENS, get_reader, span_cuts

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


def test_a_passage_reads_the_same_whatever_is_read_beside_it(reader):
    # The int8 model quantizes activations with one scale per input: batched with another passage,
    # this chunk of the default article named the 3+3 format's places instead of its proposer.
    from conftest import CORPUS

    text = next(CORPUS.glob("*.txt")).read_text(encoding="utf-8")
    chunk = text[text.index("At a press briefing") : text.index("Turkey.”") + 8]
    after = text[text.index("He revealed a proposal") : text.index("regional players.”") + 18]
    question = "Who proposed the 3+3 format?"
    alone = reader.read(question, [chunk]).spans
    for passages, at in (([chunk, after], 0), ([after, chunk], 1)):
        beside = [sp for sp in reader.read(question, passages).spans if sp.passage == at]
        assert [(sp.start, sp.end, sp.score, sp.no_answer) for sp in beside] == [
            (sp.start, sp.end, sp.score, sp.no_answer) for sp in alone
        ]
    assert alone[0].text == "Lavrov"


def test_answers_stay_within_a_sentence(reader):
    passage = (
        "Civil Aviation Minister Hardeep Singh Puri said 18 people died. 149 of the survivors have been "
        "hospitalized. Hardeep also stated that both of the flight recorders have been recovered."
    )
    cuts = span_cuts(passage)
    assert [passage[c:].split()[0] for c in cuts] == ["149", "Hardeep"]
    reading = reader.read("Which minister said both of the plane's flight recorders had been found?", [passage], top=20)
    assert reading.spans
    for sp in reading.spans:
        assert not any(sp.start < c < sp.end for c in cuts), sp.text


def test_span_cuts_are_blank_lines_and_sentence_starts():
    text = "Lavrov, for his part, said Russia\n\nwas supportive. He revealed a proposal."
    assert span_cuts(text) == [text.index("\n\n"), text.index("He revealed")]
    assert span_cuts("One sentence only") == []


def test_folders_sharing_a_conversion_keep_readers_of_their_own(reader_with_thresholds):
    """Two folders that differ only in their abstention model share the ONNX files, not the reader, which
    names the folder whose abstention model answering uses."""
    unsure, never = reader_with_thresholds(0.999, 0.0), reader_with_thresholds(0.999, 1.0)
    first, second = get_reader(unsure), get_reader(never)
    assert first.ref.id == second.ref.id and first is not second
    assert (first.ref.folder, second.ref.folder) == (unsure.resolve(), never.resolve())
    assert get_reader(unsure) is first, "one reader per folder in a process"
