"""Reading a pupil's error page as a reader does: its message code, error id, ways on and link
to the other language (templates/error.html, in templates/base.html's layout)."""

from __future__ import annotations

from dataclasses import dataclass

import lxml.html

from tests.error_log import ERROR_ID


@dataclass(frozen=True)
class ErrorPage:
    status: int
    lang: str
    code: str | None
    error_id: str | None
    ways: tuple[tuple[str, str | None], ...]
    """(href, data-way) of each way on, in order."""
    language_link: str | None


def read_page(status: int, html: str) -> ErrorPage:
    doc = lxml.html.fromstring(html)
    codes = doc.xpath("//*[@data-error-code]/@data-error-code")
    found = ERROR_ID.search(html)
    ways = tuple((str(a.get("href")), a.get("data-way"))
                 for a in doc.xpath('//ul[@class="ways"]//a'))
    links = doc.xpath('//p[contains(@class, "lang")]/a/@href')
    return ErrorPage(status=status, lang=str(doc.get("lang")),
                     code=str(codes[0]) if codes else None,
                     error_id=found.group(1) if found else None, ways=ways,
                     language_link=str(links[0]) if links else None)
