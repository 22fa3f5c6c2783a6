"""The article list read a page at a time: SQLite's LIMIT/OFFSET with a search, the same page for a sharded index."""

import json

import pytest

from qa.errors import InputError
from qa.index import load_index
from qa.indexing.build import build_index
from qa.indexing.shard_build import build_sharded_index

TOWNS = ["Ålesund", "Brindlewood", "Quillby", "Altmoor", "Westshire", "Harbour_City", "Zürich", "Porto"]
TOPICS = ["harbour", "railway", "vaccine", "election", "drought", "museum", "satellite", "strike", "comet"]


def _records() -> list[dict]:
    """Articles with repeated titles and dates (so ties are broken by the later keys), undated ones, no source,
    and titles with LIKE's wildcards and letters outside ASCII."""
    records = []
    for i in range(67):
        town, topic = TOWNS[i % len(TOWNS)], TOPICS[i % len(TOPICS)]
        record = {
            "id": f"{'A' if i % 3 else 'b'}-{i:03d}",
            "title": f"{town} {topic} news" if i % 5 else f"{town} 100% {topic} report",
            "text": f"Officials in {town} spoke about the {topic} on Monday. The {topic} was news across the region.",
        }
        if i % 7:
            record["source"] = f"{town.lower()}.example" if i % 4 else "WIRE Service"
        if i % 6:
            record["published"] = f"2024-{1 + i % 5:02d}-{1 + i % 3:02d}"
        records.append(record)
    return records


def _matches(row: dict, query: str) -> bool:
    return any(query.casefold() in (row[k] or "").casefold() for k in ("title", "source", "id"))


@pytest.fixture(scope="module")
def indexes(tmp_path_factory):
    """The same generated articles in one store and in three shards."""
    root = tmp_path_factory.mktemp("doclist")
    corpus = root / "articles.jsonl"
    corpus.write_text("".join(json.dumps(r) + "\n" for r in _records()), encoding="utf-8")
    build_index([corpus], root / "one")
    build_sharded_index([corpus], root / "three", shards=3, workers=1)
    return load_index(root / "one"), load_index(root / "three")


QUERIES = ["", "harbour", "HARBOUR", "wire service", "b-0", "100%", "100_", "_", "zürich", "ZÜRICH", "ålesund", "none"]


def test_pages_are_slices_of_the_whole_list(indexes):
    one, _ = indexes
    everything = one.documents()
    assert len(everything) == 67
    for query in QUERIES:
        expected = [row for row in everything if _matches(row, query)]
        pages, offset = [], 0
        while True:
            rows, total = one.documents_page(query, offset=offset, limit=10)
            assert total == len(expected), query
            if not rows:
                break
            pages.extend(rows)
            offset += 10
        assert pages == expected, query
    # The search reads titles, sources and ids; wildcards are plain characters and case does not count.
    assert one.documents_page("harbour_city")[1] == len([r for r in everything if r["title"].startswith("Harbour_")])
    assert one.documents_page("100_")[1] == 0 and one.documents_page("100%")[1] > 0
    assert one.documents_page("zürich")[1] == one.documents_page("ZÜRICH")[1] > 0
    assert one.documents_page("wire service")[1] == sum(r["source"] == "WIRE Service" for r in everything)


def test_the_list_read_backwards_is_the_list_reversed(indexes):
    one, _ = indexes
    for query in QUERIES:
        keys = one.store.document_keys(query, 0, 1000)
        assert one.store.document_keys(query, 0, 1000, from_end=True) == keys[::-1], query
        assert one.store.document_keys(query, 3, 4, from_end=True) == keys[::-1][3:7], query


def test_page_rows_carry_the_list_fields(indexes):
    one, _ = indexes
    rows, total = one.documents_page("", offset=60, limit=50)
    assert total == 67 and len(rows) == 7
    assert rows == one.documents()[60:]
    assert all(r["chunks"] >= 1 and r["chars"] == len(one.document(r["id"]).text) for r in rows)
    assert rows[-1]["published"] is None, "undated articles come last"
    assert one.documents_page("", offset=67) == ([], 67)


def test_the_sharded_index_pages_as_one_store(indexes):
    one, three = indexes
    assert three.stats()["shards"] == 3
    assert three.documents() == one.documents()
    for query in QUERIES:
        # Pages in the first half are merged from each shard's first keys, the rest from its last ones.
        for offset, limit in (
            (0, 5),
            (5, 5),
            (13, 7),
            (30, 8),
            (33, 1),
            (40, 50),
            (50, 10),
            (66, 3),
            (67, 1),
            (70, 10),
        ):
            assert three.documents_page(query, offset, limit) == one.documents_page(query, offset, limit), (
                query,
                offset,
            )


def test_page_arguments_are_checked(indexes):
    one, _ = indexes
    for bad in ({"offset": -1}, {"limit": 0}, {"limit": 5000}, {"offset": 1.5}, {"limit": True}):
        with pytest.raises(InputError, match="offset|limit"):
            one.documents_page("", **bad)


def test_the_list_is_read_from_its_own_index(indexes):
    """A page walks the covering index in list order: no sort and no scan of the article texts."""
    one, _ = indexes
    conn = one.store.connection()
    names = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'index'")]
    assert "documents_list" in names
    statements: list[str] = []
    conn.set_trace_callback(statements.append)
    try:
        for query in ("", "harbour", "zürich"):
            statements.clear()
            one.documents_page(query, offset=20, limit=10)
            # The list's end, read backwards as a sharded index reads the second half of the list.
            one.store.document_keys(query, 0, 10, from_end=True)
            listing = [s for s in statements if "ORDER BY" in s]
            assert len(listing) == 2, statements
            for statement in listing:
                plan = " ".join(r[3] for r in conn.execute("EXPLAIN QUERY PLAN " + statement))
                assert "COVERING INDEX documents_list" in plan and "TEMP B-TREE" not in plan, plan
    finally:
        conn.set_trace_callback(None)
