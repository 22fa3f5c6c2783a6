import pytest

from qa.answer.lists import asks_for_list, list_answer, whole_list


def _widened(sentence: str, span: str) -> str:
    start = sentence.index(span)
    s, e = whole_list(sentence, start, start + len(span), 0, len(sentence))
    return sentence[s:e]


def test_a_question_asks_for_a_list_by_a_plural_after_its_wh_word():
    assert asks_for_list("Which towns suffered most of the damage?")
    assert asks_for_list("What kinds of structures did the earthquake damage?")
    assert asks_for_list("Which presidents' hearings did he take part in?")
    assert asks_for_list("In which holy cities did the curfew last all day?")
    assert asks_for_list("Who were the featured guests?")
    assert asks_for_list("Which US airlines are hit by the restrictions?")
    assert asks_for_list("What did the children say?") is False
    assert not asks_for_list("What percentage of voters rejected the proposal?")
    assert not asks_for_list("Which news agency reported it?")
    assert not asks_for_list("Which university's medical school does she work at?")
    assert not asks_for_list("Which MIT professor says a lifelong goal is finding life?")
    assert not asks_for_list("Who proposed the 3+3 format?")
    assert not asks_for_list("What happens to the plugs if the water level drops?")
    assert not asks_for_list("Which republic borders Iran?")
    assert not asks_for_list("What prohibits atoms from passing through each other?")
    assert not asks_for_list("Which court said Governor Evers had no power?")
    assert asks_for_list("Which two Democrats opposed both articles?") and asks_for_list("Which states hold primaries?")


def test_an_item_read_as_the_answer_is_widened_to_its_whole_list():
    sentence = "Fire engines were sent from Dolgellau, Harlech, Barmouth, and Bala on Sunday."
    assert _widened(sentence, "Harlech") == "Dolgellau, Harlech, Barmouth, and Bala"
    assert _widened(sentence, "Bala") == "Dolgellau, Harlech, Barmouth, and Bala"
    assert _widened(sentence, "Dolgellau") == "Dolgellau, Harlech, Barmouth, and Bala"
    # Part of an item grows to the item, and the list's first item stops at the word that introduces it.
    sentence = "She spoke about cheap housing, transport, and raising the minimum wage."
    assert _widened(sentence, "minimum wage") == "cheap housing, transport, and raising the minimum wage"
    sentence = "The survivors include his wife, Jonna, three children, two grandchildren, and his sisters."
    assert _widened(sentence, "Jonna") == "his wife, Jonna, three children, two grandchildren, and his sisters"


# (sentence, span read) where the span is no item of a list, or a whole list already.
NOT_WIDENED = [
    ("The lead authors, Ann Wilson and Nick Hawco, said so.", "Ann Wilson and Nick Hawco"),  # coordinated already
    ("In 2019, Cantilan was hit by the storm.", "Cantilan"),  # a comma without a coordinator after it
    ("The vote, which is not binding, was boycotted by both parties.", "both parties"),
    ("Mahan flies fighters and cargo to Syria.", "Mahan"),  # a name does not grow into the words after it
    ("The storm hit Cantilan and killed three people.", "Cantilan"),  # "and" before a clause
    ("Scientists watched horse flies around zebras and domestic horses.", "horse flies"),  # past a preposition
    ("The British were supported by the Iroquois Six Nations, and also by the Cherokee.", "the Iroquois Six Nations"),
    ("The state cannot enforce such laws, and a citizen may rely on the directive.", "such laws"),  # clauses
    ("Utility and industrial boilers commonly use multi-stage centrifugal pumps.", "multi-stage centrifugal pumps"),
]


@pytest.mark.parametrize(("sentence", "span"), NOT_WIDENED)
def test_a_span_that_is_no_list_item_stays_as_read(sentence, span):
    assert _widened(sentence, span) == span


def test_a_list_answer_is_widened_only_asked_for_several_things_it_does_not_name():
    sentence = "Sealing the rotor is hard because of wear and thermal expansion."
    at = sentence.index("thermal expansion")
    span = (at, at + len("thermal expansion"))
    whole = (sentence.index("wear"), span[1])
    assert list_answer("What problems make sealing the rotor hard?", sentence, *span, [(0, len(sentence))]) == whole
    # Asked for one thing, or for what the question has not named already, the span stays.
    assert list_answer("What problem makes sealing the rotor hard?", sentence, *span, [(0, len(sentence))]) == span
    assert list_answer("Along with wear, what problems make it hard?", sentence, *span, [(0, len(sentence))]) == span
