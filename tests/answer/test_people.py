"""Who a passage means: people named before a pronoun or an office, and who speaks a quotation."""

from qa.answer.people import (
    asked_person,
    asks_who_said,
    is_role,
    named_after,
    named_before,
    quote_speaker,
    resolve_pronoun,
)


def _speaker(text: str, quoted: str) -> str | None:
    at = text.index(quoted)
    found = quote_speaker(text, at, at + len(quoted))
    return text[found[0] : found[1]] if found else None


def test_named_before_finds_who_a_pronoun_stands_for():
    text = (
        "Foreign Minister Sergei Lavrov met his counterpart in Moscow. "
        "Lavrov, for his part, said Russia was supportive. He revealed a proposal. "
        "The talks went on in the Caspian Sea region. It rained."
    )
    found = named_before(text, text.index("He revealed"))
    assert text[found[0] : found[1]] == "Lavrov", "the last person named before, not the place"
    found = named_before(text, text.index("Lavrov,"))
    assert text[found[0] : found[1]] == "Sergei Lavrov", "titles are left out"
    # Places are not people: with only a place before, nothing is found.
    assert named_before("The storm hit Caspian Sea ports. He left.", 34) is None


def test_a_pronoun_read_as_the_answer_stands_for_the_person_named_before():
    text = "Lavrov, for his part, said Russia was supportive. He revealed a proposal to hold talks."
    he = text.index("He revealed")
    assert resolve_pronoun(text, he, he + 2) == (0, 6, (he, he + 2))
    # Any other span stays where the reader put it.
    assert resolve_pronoun(text, 0, 6) == (0, 6, None)


def test_asked_who_an_office_read_as_the_answer_stands_for_the_person_named_before():
    text = "President Donald Trump spoke on Monday. The president blamed Democratic leaders for the unrest."
    office = text.index("The president")
    expected = (text.index("Donald"), text.index(" spoke"), (office, office + len("The president")))
    assert resolve_pronoun(text, office, office + len("The president"), who=True) == expected
    # Not asked who, the office is the answer ("What post does he hold?").
    assert resolve_pronoun(text, office, office + len("The president")) == (office, office + 13, None)
    assert is_role("the former prime minister") and is_role("The Foreign Minister")
    assert not is_role("the ambulance service") and not is_role("Dean of the House") and not is_role("the")


def test_asked_who_a_title_read_as_the_answer_stands_for_the_name_after_it():
    text = "A study by archaeologist Dr. Naomi Martisius found that the tools were made by Neanderthals."
    title = text.index("Dr")
    assert resolve_pronoun(text, title, title + 2, who=True) == (
        text.index("Naomi"),
        text.index(" found"),
        (title, title + 2),
    )
    text = "Sanders lost in 2016 to former United States Senator from New York Hillary Clinton."
    office = text.index("former")
    start, end, _ = resolve_pronoun(text, office, text.index(" from"), who=True)
    assert text[start:end] == "Hillary Clinton", "after a place, the name is a given name and a surname"
    text = "The president, Joe Biden, said so. The mayor of London Sadiq Khan agreed."
    start, end, _ = resolve_pronoun(text, 0, len("The president"), who=True)
    assert text[start:end] == "Joe Biden"
    mayor = text.index("The mayor")
    start, end, _ = resolve_pronoun(text, mayor, mayor + len("The mayor"), who=True)
    assert text[start:end] == "Sadiq Khan"
    # Not asked who, or with no name after it, the title is left to the rules before.
    assert resolve_pronoun(text, 0, len("The president")) == (0, 13, None)
    assert named_after("He met the President of Russia.", len("He met the President")) is None
    # A full stop after a whole word ends the sentence.
    text = "Prime ministers were chosen by the King or Queen. He named Pohiva."
    office = text.index("the King")
    assert resolve_pronoun(text, office, text.index(". He"), who=True)[2] is None


def test_the_speaker_of_a_quotation_is_named_next_to_it():
    assert _speaker("“We will win,” said ministry spokesman Saeed Khatibzadeh.", "win") == "Saeed Khatibzadeh"
    assert _speaker('"We will win," Smith said.', "win") == "Smith"
    assert _speaker("Putin said Russia was ready. “We will win.”", "win") == "Putin"
    # A quotation with no speaker of its own is spoken by the one who speaks before it in the paragraph; "he"
    # stands for the person named before.
    text = (
        "“The document is ready,” said ministry spokesman Saeed Khatibzadeh.\n"
        "“Relations must improve,” he adds. “Between Iran, China and Russia, the eastern axis is emerging.”"
    )
    assert _speaker(text, "Iran, China and Russia") == "Saeed Khatibzadeh"
    assert _speaker("“We will win,” the minister said, after Foreign Minister Sergei Lavrov spoke.", "win") is None


def test_no_speaker_is_found_for_words_outside_quotations_or_attributed_to_nobody_named():
    assert _speaker("Smith said the team will win.", "win") is None, "not quoted"
    assert _speaker("“We will win,” he said.", "win") is None, "nobody named before 'he'"
    assert _speaker("“We will win,” said on Monday a spokesman.", "win") is None, "a day is not a speaker"
    # A quotation of the paragraph before is not this one's.
    assert _speaker("“Yes,” said Jane Doe.\nThe report said “we will win” at last.", "win") is None


def test_only_a_question_about_who_spoke_asks_for_the_speaker():
    assert asks_who_said("Who said that the eastern axis is emerging?")
    assert asks_who_said("Who warned on Twitter that the vote was at risk?")
    assert asks_who_said("Who has described the pullout as a betrayal?")
    # Who was spoken of, or who did something else, is in what was said.
    assert not asks_who_said("Who did Lindsey Graham say were the big winners?")
    assert not asks_who_said("Who is said to have brought the relic?")
    assert not asks_who_said("Who won the vote?")
    assert not asks_who_said("Whom did Trump call a disgrace?")


def test_asked_who_said_it_on_the_default_article_the_answer_is_the_speaker_not_the_quotation(default_index):
    answer = default_index.answer("Who said that the eastern axis is emerging?")
    shown = answer if not answer.abstained else answer.best_guess
    assert shown is not None and shown.text == "Saeed Khatibzadeh"
    quotes = " ".join(c.quote for c in shown.citations)
    assert "said ministry spokesman Saeed Khatibzadeh" in quotes and "the eastern axis is emerging" in quotes
    for c in shown.citations:
        assert default_index.document(c.doc_id).text[c.start : c.end] == c.quote


def test_who_is_asks_about_a_person_the_text_names():
    texts = ["Russian Foreign Minister Sergei Lavrov met ministry spokesman Saeed Khatibzadeh."]
    assert asked_person("Who is Sergei Lavrov?", texts) == "Sergei Lavrov"
    # Typed in lower case, the name is as the text writes it.
    assert asked_person("who was khatibzadeh", texts) == "Khatibzadeh"
    assert asked_person("who's lavrov", texts) == "Lavrov"
    # An office or a description is asked for by name.
    for question in ("Who is the spokesman?", "who is foreign minister", "Who is Lavrov's counterpart?"):
        assert asked_person(question, texts) is None
    # Other questions, and a name the text does not write as one.
    assert asked_person("Who met Sergei Lavrov?", texts) is None
    assert asked_person("Who is met?", texts) is None
