from qa.ingest.text import lexical_terms, normalize, split_sentences


def sentences(text):
    return [text[s:e] for s, e in split_sentences(text)]


def test_paragraph_break_inside_sentence_does_not_split(default_text):
    found = [s for s in sentences(default_text) if s.startswith("Lavrov, for his part")]
    assert len(found) == 1
    assert found[0].endswith("pan-Caspian Sea treaty.")
    assert "\n\nwas supportive" in found[0]


def test_header_lines_are_their_own_sentences(default_text):
    ss = sentences(default_text)
    assert ss[:5] == [
        "kayhan.ir",
        "News ID: 95333",
        "Publish Date : 11 October 2021 - 21:30",
        "Iran, Russia Finalizing Strategic Partnership Deal",
        "Eastern Axis Is Emerging",
    ]


def test_abbreviations_initials_and_decimals():
    text = "Mr. J. K. Smith paid $3.5 million to the U.S. government on Jan. 5. Then he left. Did he? Yes!"
    assert sentences(text) == [
        "Mr. J. K. Smith paid $3.5 million to the U.S. government on Jan. 5.",
        "Then he left.",
        "Did he?",
        "Yes!",
    ]


def test_quotes_close_sentences():
    text = "“We will go,” he said. “It is final.” She agreed."
    assert sentences(text) == ["“We will go,” he said.", "“It is final.”", "She agreed."]


def test_offsets_point_into_text(default_text):
    spans = split_sentences(default_text)
    assert spans == sorted(spans)
    for s, e in spans:
        assert default_text[s:e] == default_text[s:e].strip()
        assert e > s
    # Every non-space character belongs to a sentence.
    covered = sum(e - s for s, e in spans)
    assert covered >= len("".join(default_text.split()))


def test_lexical_terms_keep_compounds_and_parts():
    assert lexical_terms("the “3+3” format") == ["the", "3_3", "3", "3", "format"]
    assert "covid_19" in lexical_terms("COVID-19 fears")
    assert {"amir_abdollahian", "amir", "abdollahian"} <= set(lexical_terms("Amir-Abdollahian"))
    assert lexical_terms("Iran’s") == lexical_terms("Iran's") == ["iran"]


def test_normalize_straightens_quotes():
    assert normalize("“A” ‘b’ – c") == "\"a\" 'b' - c"
