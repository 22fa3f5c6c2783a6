"""Names in full: a span stopped at the head of an institution's, a document's or a place's name is widened."""

from qa.answer.names import whole_name


def _widened(text: str, span: str) -> str:
    at = text.index(span)
    return text[at : whole_name(text, at, at + len(span))]


def test_a_name_stopped_at_its_head_word_goes_on_to_its_end():
    text = "The document, entitled the Global Agreement for Cooperation between Iran and Russia, is ready."
    assert _widened(text, "the Global Agreement") == "the Global Agreement for Cooperation between Iran and Russia"
    text = "She joined the Max Planck Institute for Evolutionary Anthropology in Leipzig."
    assert _widened(text, "Max Planck Institute") == "Max Planck Institute for Evolutionary Anthropology"
    text = "It signed the Treaty on the Non-Proliferation of Nuclear Weapons in 1968."
    assert _widened(text, "the Treaty") == "the Treaty on the Non-Proliferation of Nuclear Weapons"


def test_a_span_that_is_no_name_head_or_is_followed_by_no_name_stays():
    assert _widened("Messi played for Barcelona.", "Messi") == "Messi", "a person is no head of a name"
    assert _widened("The Court of Appeal on Monday ruled.", "The Court") == "The Court of Appeal", "a day is not"
    assert _widened("The Bank of England and France agreed.", "The Bank") == "The Bank of England"
    assert _widened("the ministry of the interior", "the ministry") == "the ministry", "not capitalised"
    assert _widened("a new Agreement was signed", "a new Agreement") == "a new Agreement"


def test_a_place_s_name_goes_on_with_of_only():
    text = "Anime North was held at the Toronto Congress Centre for Anime North fans."
    assert _widened(text, "the Toronto Congress Centre") == "the Toronto Congress Centre"
    assert _widened("the Museum of Modern Art for all", "the Museum") == "the Museum of Modern Art"
