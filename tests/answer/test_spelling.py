"""Typing slips in questions, read as the indexed word meant, over the real index of the default article."""

from qa.answer import spelling
from qa.answer.spelling import corrected_question, corrected_word, is_known, one_slip_away


def test_one_slip_away_covers_each_kind_of_slip():
    near = one_slip_away("moscow")
    assert {"mosow", "mocsow", "moscaw", "mosscow"} <= near, "left out, swapped, changed, added"
    assert "moscow" not in near and "mocsaw" not in near, "the word itself and two slips are not one slip"


def test_the_dictionary_holds_english_words_and_names_but_not_slips():
    assert all(is_known(w) for w in ("marchers", "sing", "depose", "karnataka"))
    assert not any(is_known(w) for w in ("karantaka", "femlae", "khatibzadeh"))


def test_a_slipped_name_is_read_as_the_indexed_one(default_index):
    frequency = default_index.store.term_frequency
    assert corrected_word("Khatibzaddeh", frequency) == "Khatibzadeh"
    assert corrected_word("khatibzaddeh", frequency) == "khatibzadeh", "typed in lower case, kept so"
    assert corrected_word("Tajkistan", frequency) == "Tajikistan"
    assert corrected_question("What did Saeed Khatbizadeh say?", frequency) == "What did Saeed Khatibzadeh say?"


def test_words_that_are_meant_are_left_as_typed(default_index):
    frequency = default_index.store.term_frequency
    # "sing" is an English word one slip from the article's "sign": a question about something else.
    assert frequency("sign") and not frequency("sing")
    assert corrected_word("sing", frequency) == "sing"
    # Acronyms, short words and words the article holds stay; so does a name one slip from no indexed word.
    for word in ("SCOO", "Irn", "Dushanbe", "Zorgblatt"):
        assert corrected_word(word, frequency) == word
    question = "Who proposed the 3+3 format?"
    assert corrected_question(question, frequency) == question
    # A word in quotation marks is kept as typed; the same word outside them is still read as meant.
    quoted = corrected_question('Is “Khatibzaddeh” the same as "Khatibzaddeh" or Khatibzaddeh?', frequency)
    assert quoted == 'Is “Khatibzaddeh” the same as "Khatibzaddeh" or Khatibzadeh?'


def test_an_english_word_is_preferred_to_an_inflection_that_shares_its_stem():
    # Both "ultimately" and "ultimably" stem to "ultim"; only the first is a word.
    def frequency(term):
        return 3 if term in ("ultimately", "ultimably") else 0

    assert corrected_word("ultimatly", frequency) == "ultimately"


def test_a_question_with_a_slip_is_answered_as_the_one_meant(default_index):
    meant = default_index.answer("Who proposed the 3+3 discussions?")
    slipped = default_index.answer("Who proposed the 3+3 dicsussions?")
    assert slipped.question == "Who proposed the 3+3 dicsussions?"
    assert slipped.read_as == "Who proposed the 3+3 discussions?" and meant.read_as is None
    assert (slipped.text, slipped.citations, slipped.confidence) == (meant.text, meant.citations, meant.confidence)
    assert slipped.to_dict()["read_as"] == slipped.read_as and meant.to_dict()["read_as"] is None
    first = [p.chunk_id for p in default_index.retrieve("Who proposed the 3+3 dicsussions?")]
    assert first == [p.chunk_id for p in default_index.retrieve("Who proposed the 3+3 discussions?")]


def test_a_word_the_model_knows_is_kept_without_loading_the_dictionary(default_index):
    # "format" is in no indexed chunk but one slip from words that are: it is kept, as the embedding model's
    # vocabulary holds it, and the dictionary (0.2 s to load) is not opened for it.
    frequency = default_index.store.term_frequency
    spelling._dictionary_words.cache_clear()
    assert not frequency("format") and any(frequency(w) for w in one_slip_away("format"))
    assert corrected_question("Who proposed the 3+3 format?", frequency) == "Who proposed the 3+3 format?"
    assert spelling._dictionary_words.cache_info().currsize == 0
    # A word only the dictionary holds still opens it, and is kept.
    assert "marchers" not in spelling._model_words()
    assert corrected_word("marchers", lambda w: 1 if w == "marches" else 0) == "marchers"
    assert spelling._dictionary_words.cache_info().currsize == 1
