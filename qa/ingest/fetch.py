"""Fetching a web page to index: HTML only, same host only, bounded in time and size."""

from __future__ import annotations

import urllib.error
import urllib.request
from dataclasses import dataclass
from email.message import Message
from urllib.parse import urldefrag, urlsplit

from qa.errors import QAError
from qa.ingest.documents import decode_bytes

TIMEOUT_S = 10.0
MAX_PAGE_BYTES = 5 * 1024 * 1024
HTML_TYPES = ("text/html", "application/xhtml+xml")
USER_AGENT = "qa-news/0.1 (+article indexer)"


class FetchError(QAError):
    """A URL that did not give a web page to index; the message names it and says why in one line."""

    def __init__(self, url: str, reason: str) -> None:
        super().__init__(f"{url}: {reason}")
        self.url = url
        self.reason = reason


@dataclass(frozen=True)
class FetchedPage:
    """A fetched HTML page: the address asked for, the one answered from (after same-host redirects), its text."""

    requested: str
    url: str
    text: str


def _host(url: str) -> str:
    host = (urlsplit(url).hostname or "").lower()
    return host[4:] if host.startswith("www.") else host


class _SameHostRedirects(urllib.request.HTTPRedirectHandler):
    """Follows redirects within the page's own host (http to https, www. or not), refuses others."""

    def redirect_request(self, req, fp, code, msg, headers, newurl):  # noqa: ANN001, ANN201 (urllib's signature)
        if _host(newurl) != _host(req.full_url):
            raise FetchError(
                req.full_url, f"redirects to another host ({urlsplit(newurl).hostname}); add that address instead"
            )
        return super().redirect_request(req, fp, code, msg, headers, newurl)


def _charset(headers: Message) -> str | None:
    return headers.get_content_charset()


def fetch_html(url: str, timeout: float = TIMEOUT_S, max_bytes: int = MAX_PAGE_BYTES) -> FetchedPage:
    """The HTML page at `url`; raises FetchError on timeouts, errors, non-HTML answers, other-host redirects
    and pages larger than `max_bytes`."""
    url, _ = urldefrag(url.strip())
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise FetchError(url, "not an http(s) address of a web page")
    opener = urllib.request.build_opener(_SameHostRedirects())
    request = urllib.request.Request(url, headers={"User-Agent": USER_AGENT, "Accept": "text/html,*/*;q=0.5"})
    try:
        with opener.open(request, timeout=timeout) as response:
            final = response.geturl()
            ctype = response.headers.get_content_type()
            if ctype not in HTML_TYPES:
                raise FetchError(url, f"not an HTML page (Content-Type {ctype}); save it and add the file")
            length = response.headers.get("Content-Length")
            if length and length.isdigit() and int(length) > max_bytes:
                raise FetchError(url, f"larger than {max_bytes // 2**20} MB ({int(length) // 2**20} MB)")
            body = response.read(max_bytes + 1)
            charset = _charset(response.headers)
    except FetchError:
        raise
    except urllib.error.HTTPError as exc:
        raise FetchError(url, f"the server answered HTTP {exc.code} {exc.reason}") from None
    except urllib.error.URLError as exc:
        if isinstance(exc.reason, TimeoutError):
            raise FetchError(url, f"no answer within {timeout:g} s") from None
        reason = getattr(exc.reason, "strerror", None) or str(exc.reason)
        raise FetchError(url, f"unreachable ({reason})") from None
    except TimeoutError:
        raise FetchError(url, f"no answer within {timeout:g} s") from None
    except (OSError, ValueError) as exc:
        raise FetchError(url, f"could not be fetched: {exc}") from None
    if len(body) > max_bytes:
        raise FetchError(url, f"larger than {max_bytes // 2**20} MB")
    text = None
    if charset:
        try:
            text = body.decode(charset)
        except (LookupError, UnicodeDecodeError):
            text = None
    if text is None:
        text, _ = decode_bytes(body)
    return FetchedPage(requested=url, url=final, text=text)
