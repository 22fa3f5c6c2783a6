"""RSS and Atom feeds: one document per entry; files that are no feed or have no entries are skipped with a reason."""

from qa.ingest.corpus import load_corpus
from qa.ingest.documents import LoadReport

RSS = """<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0" xmlns:content="http://purl.org/rss/1.0/modules/content/" xmlns:dc="http://purl.org/dc/elements/1.1/">
<channel>
  <title>Harbour Times</title><link>https://www.harbourtimes.example/</link><language>en-gb</language>
  <description>News from the coast</description>
  <item>
    <title>Vellmar dock strike ends</title>
    <link>https://www.harbourtimes.example/news/strike-ends</link>
    <guid>https://www.harbourtimes.example/?p=101</guid>
    <pubDate>Tue, 05 Mar 2024 10:12:00 GMT</pubDate>
    <dc:creator>Jane Doe</dc:creator>
    <description>Short summary only.</description>
    <content:encoded><![CDATA[<p>Dock workers returned to work on Tuesday after a nine-day strike.</p>
      <p>The union said members voted 71 percent in favour.</p><script>track()</script>]]></content:encoded>
  </item>
  <item>
    <title>Ferry fares to rise in spring</title>
    <link>https://www.harbourtimes.example/news/ferry-fares</link>
    <pubDate>Mon, 04 Mar 2024 23:30:00 -0200</pubDate>
    <description>&lt;p&gt;Fares on the Osk island ferry will rise by a tenth from April.&lt;/p&gt;</description>
  </item>
</channel></rss>
"""

ATOM = """<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom">
  <title>Science Daily Wire</title><link href="https://sciencedailywire.example/"/>
  <updated>2025-01-22T12:00:00Z</updated><id>urn:sdw</id>
  <entry>
    <title>Comet fragment heading for Jupiter</title>
    <link href="https://sciencedailywire.example/space/comet"/>
    <id>urn:sdw:comet</id>
    <published>2025-01-22T09:00:00Z</published><updated>2025-01-23T09:00:00Z</updated>
    <author><name>Priya Raman</name></author>
    <content type="html">&lt;p&gt;Astronomers found a comet fragment on course to strike Jupiter.&lt;/p&gt;</content>
  </entry>
</feed>
"""


def test_rss_entries_become_documents(tmp_path):
    (tmp_path / "harbour.rss").write_text(RSS)
    docs = {d.title: d for d in load_corpus([tmp_path])}
    assert set(docs) == {"Vellmar dock strike ends", "Ferry fares to rise in spring"}
    strike = docs["Vellmar dock strike ends"]
    # The full content wins over the summary, as text with paragraph breaks; scripts are dropped.
    assert strike.text == (
        "Dock workers returned to work on Tuesday after a nine-day strike.\n\n"
        "The union said members voted 71 percent in favour."
    )
    assert strike.id == "harbour.rss#https://www.harbourtimes.example/?p=101"
    assert strike.url == "https://www.harbourtimes.example/news/strike-ends"
    assert strike.published == "2024-03-05"
    assert strike.source == "Harbour Times"
    assert strike.meta["author"] == "Jane Doe"
    assert strike.meta["hostname"] == "harbourtimes.example"
    assert strike.meta["language"] == "en-gb"
    ferry = docs["Ferry fares to rise in spring"]
    assert ferry.text == "Fares on the Osk island ferry will rise by a tenth from April."
    # 23:30 at UTC-2 is the next day in UTC.
    assert ferry.published == "2024-03-05"
    assert ferry.id == "harbour.rss#https://www.harbourtimes.example/news/ferry-fares"


def test_atom_feed_in_an_xml_file(tmp_path):
    (tmp_path / "sdw.xml").write_text(ATOM)
    [doc] = load_corpus([tmp_path])
    assert doc.id == "sdw.xml#urn:sdw:comet"
    assert doc.title == "Comet fragment heading for Jupiter"
    assert doc.text == "Astronomers found a comet fragment on course to strike Jupiter."
    assert (doc.published, doc.meta["author"], doc.source) == ("2025-01-22", "Priya Raman", "Science Daily Wire")


def test_bad_feeds_are_skipped_with_one_reason_each(tmp_path):
    (tmp_path / "good.atom").write_text(ATOM)
    (tmp_path / "empty.rss").write_text(
        '<?xml version="1.0"?><rss version="2.0"><channel><title>T</title></channel></rss>'
    )
    (tmp_path / "sitemap.xml").write_text(
        '<?xml version="1.0"?><urlset><url><loc>https://a.example/</loc></url></urlset>'
    )
    (tmp_path / "broken.rss").write_text("<rss><channel><item><title>Unclosed")
    report = LoadReport()
    docs = load_corpus([tmp_path], report)
    assert [d.id for d in docs] == ["good.atom#urn:sdw:comet"]
    reasons = {s.path.rsplit("/", 1)[-1]: s.reason for s in report.skipped}
    assert reasons["empty.rss"] == "feed has no entries"
    assert reasons["sitemap.xml"] == "not an RSS or Atom feed"
    # A truncated feed gives what it can; its entry without title or text is named by number.
    assert reasons["broken.rss#1"] == "entry has no title and no text"
    assert set(reasons) == {"empty.rss", "sitemap.xml", "broken.rss#1"}
    assert all("\n" not in r for r in reasons.values())
