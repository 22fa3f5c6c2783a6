import subprocess
import sys

from qa import entities


def test_entities_and_noun_phrases():
    assert entities.available()
    [a] = entities.analyse(["Russian Foreign Minister Sergei Lavrov met officials in Moscow on Monday."])
    found = {(e.text, e.label) for e in a.entities}
    assert ("Sergei Lavrov", "PERSON") in found and ("Moscow", "GPE") in found
    assert any(p.text == "officials" for p in a.noun_phrases)
    text = "Russian Foreign Minister Sergei Lavrov met officials in Moscow on Monday."
    for e in a.entities + a.noun_phrases:
        assert text[e.start : e.end] == e.text


def test_repeated_texts_come_from_the_cache():
    texts = ["Angela Merkel visited Paris.", "Angela Merkel visited Paris."]
    first, second = entities.analyse(texts)
    assert first is second
    assert entities.entities(texts[:1])[0] == first.entities


def test_loading_the_model_does_not_import_torch():
    # A cold process that only needs entities must not pay for torch; torch stays importable afterwards.
    code = (
        "import sys\n"
        "from qa import entities\n"
        "assert entities.available()\n"
        "print('torch' in sys.modules and sys.modules['torch'] is not None)\n"
        "import torch\n"
        "print(torch.ones(2).sum().item())\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["False", "2.0"]


def test_entities_alone_skip_the_parser_but_match():
    text = "Chancellor Olaf Scholz flew from Berlin to Washington on 3 March 2022 with two ministers."
    [only] = entities.analyse([text], phrases=False)
    assert only.noun_phrases is None
    [full] = entities.analyse([text])  # asks again, now with the parser
    assert full.noun_phrases and full.entities == only.entities
    assert ("Berlin", "GPE") in {(e.text, e.label) for e in full.entities}
    assert entities.analyse([text], phrases=False)[0] is full  # a full analysis serves both
