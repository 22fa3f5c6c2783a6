"""The README stays short, and every relative link in it and in docs/ leads to a file of the repo."""

import re
from pathlib import Path

from conftest import ROOT

README_LINES = 300
# [text](target) and ![alt](target), outside code; a target is cut at its first space (an optional title).
LINK = re.compile(r"!?\[[^\]]*\]\(([^)\s]+)[^)]*\)")


def pages() -> list[Path]:
    return [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]


def broken_links(page: Path) -> list[str]:
    """The relative links of a Markdown page whose file does not exist (code blocks and spans left out)."""
    text = re.sub(r"```.*?```", "", page.read_text(encoding="utf-8"), flags=re.S)
    text = re.sub(r"`[^`\n]*`", "", text)
    broken = []
    for target in LINK.findall(text):
        if re.match(r"[a-z][a-z0-9+.-]*:", target) or target.startswith("#"):
            continue  # a web address, mail or an anchor in the page itself
        if not (page.parent / target.split("#", 1)[0]).exists():
            broken.append(target)
    return broken


def test_the_readme_is_at_most_300_lines():
    lines = len((ROOT / "README.md").read_text(encoding="utf-8").splitlines())
    assert lines <= README_LINES, f"README.md has {lines} lines; move the details to a page of docs/"


def test_every_relative_link_points_to_a_file():
    assert len(pages()) > 5, "the topics live in docs/"
    broken = {page.name: links for page in pages() if (links := broken_links(page))}
    assert not broken, broken


def test_a_broken_link_is_found(tmp_path):
    page = tmp_path / "page.md"
    (tmp_path / "there.md").write_text("x")
    page.write_text(
        "[ok](there.md) [anchor](there.md#part) [web](https://example.org) [gone](missing.md#x) ![pic](no.png)\n"
        "`[code](nothing.md)`\n```\n[block](nothing.md)\n```\n"
    )
    assert broken_links(page) == ["missing.md#x", "no.png"]
