"""A small scripted browser for SAML flows: requests + lxml, no JavaScript.

It follows redirects, pages that go on at once (`<meta http-equiv="refresh"
content="0;url=...">`) and submits SAML auto-POST forms (a form whose fields are all hidden and
include SAMLRequest or SAMLResponse) by itself, so one call runs until a page wants a person:

    with Browser() as browser:
        browser.get(f"{sp}/login")               # -> the school's login form
        browser.login(person.id)                 # -> back at the supplier's page
        assert browser.page.status_code == 200
        browser.get_json(f"{sp}/whoami")
"""

from __future__ import annotations

import base64
import binascii
import zlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urljoin

import lxml.html
import requests
from requests.adapters import HTTPAdapter
from urllib3.util.retry import Retry

SAML_FIELDS = frozenset({"SAMLRequest", "SAMLResponse"})
TIMEOUT = 10.0


@dataclass(frozen=True)
class Form:
    action: str
    """Absolute URL the form submits to."""
    method: str
    fields: dict[str, str]
    """What submitting it unchanged would send: hidden and text fields, checked radios."""
    choices: dict[str, list[str]] = field(default_factory=dict)
    """Radio buttons and selects: name -> the values one can pick."""
    visible: frozenset[str] = frozenset()
    """Names of fields a person would fill in or pick (not hidden)."""

    @property
    def is_saml_auto_post(self) -> bool:
        return bool(SAML_FIELDS & self.fields.keys()) and not self.visible


def parse_forms(html: str | bytes, base_url: str) -> list[Form]:
    if not html.strip():
        return []
    doc = lxml.html.fromstring(html, base_url=base_url)
    return [_form(f, base_url) for f in doc.forms]


def is_html(response: requests.Response) -> bool:
    return "html" in response.headers.get("Content-Type", "")


def _form(element: Any, base_url: str) -> Form:
    fields: dict[str, str] = {}
    choices: dict[str, list[str]] = {}
    visible: set[str] = set()
    for control in element.xpath(".//input|.//select|.//textarea"):
        name = control.get("name")
        if not name:
            continue
        kind = (control.get("type") or "text").lower() if control.tag == "input" else control.tag
        if kind in ("submit", "button", "image", "reset", "file"):
            continue
        if kind != "hidden":
            visible.add(name)
        if kind in ("radio", "checkbox"):
            choices.setdefault(name, []).append(control.get("value", "on"))
            if control.get("checked") is not None:
                fields[name] = control.get("value", "on")
        elif kind == "select":
            options = [o.get("value", o.text_content()) for o in control.xpath(".//option")]
            choices[name] = options
            picked = control.xpath(".//option[@selected]")
            if picked or options:
                fields[name] = picked[0].get("value", picked[0].text_content()) if picked else (
                    options[0])
        else:
            fields[name] = control.get("value", "") if kind != "textarea" else control.text or ""
    return Form(action=element.action or base_url, method=(element.method or "GET").upper(),
                fields=fields, choices=choices, visible=frozenset(visible))


class Browser:
    """A cookie-keeping browser that runs SAML front-channel hops by itself."""

    def __init__(self, max_auto_posts: int = 10) -> None:
        self.session = requests.Session()
        # as a browser does: a GET on a kept-alive connection the server has just closed is
        # sent once more on a new one (never a POST)
        again = HTTPAdapter(max_retries=Retry(total=1, connect=1, read=1, status=0, redirect=0,
                                              allowed_methods=frozenset({"GET", "HEAD"})))
        self.session.mount("http://", again)
        self.session.mount("https://", again)
        self.max_auto_posts = max_auto_posts
        self.history: list[requests.Response] = []
        """Every response seen, redirects included, oldest first."""
        self.saml_posts: list[dict[str, str]] = []
        """Every SAML auto-POST sent: {"action": url, **fields}, oldest first."""
        self._page: requests.Response | None = None

    def __enter__(self) -> Browser:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self.session.close()

    # -- where we are -----------------------------------------------------------------------

    @property
    def page(self) -> requests.Response:
        if self._page is None:
            raise RuntimeError("no page loaded yet")
        return self._page

    @property
    def url(self) -> str:
        return self.page.url

    @property
    def text(self) -> str:
        return self.page.text

    def forms(self) -> list[Form]:
        return parse_forms(self.page.content, self.url) if is_html(self.page) else []

    def form(self, where: Callable[[Form], bool] | str | None = None) -> Form:
        """The first form on the page; `where`: a field name it must have, or a predicate."""
        test: Callable[[Form], bool]
        if where is None:
            test = _always
        elif isinstance(where, str):
            test = lambda f: where in f.fields or where in f.choices  # noqa: E731
        else:
            test = where
        found = [f for f in self.forms() if test(f)]
        if not found:
            raise LookupError(f"no such form on {self.url} ({self.page.status_code})")
        return found[0]

    # -- moving -----------------------------------------------------------------------------

    def get(self, url: str, params: Mapping[str, str] | None = None,
            auto_post: bool = True) -> requests.Response:
        return self._land(self.session.get(url, params=params, timeout=TIMEOUT), auto_post)

    def post(self, url: str, data: Mapping[str, str], auto_post: bool = True) -> requests.Response:
        return self._land(self.session.post(url, data=data, timeout=TIMEOUT), auto_post)

    def submit(self, form: Form, *, auto_post: bool = True, **values: str) -> requests.Response:
        """Submit `form` with `values` filled in (they replace or add fields)."""
        data = {**form.fields, **values}
        if form.method == "POST":
            return self.post(form.action, data, auto_post)
        return self.get(form.action, data, auto_post)

    def get_json(self, url: str) -> Any:
        response = self.session.get(url, timeout=TIMEOUT)
        response.raise_for_status()
        return response.json()

    def click(self, text: str) -> requests.Response:
        """Follow the first link whose text contains `text`."""
        doc = lxml.html.fromstring(self.page.content, base_url=self.url)
        doc.make_links_absolute(self.url)
        for link in doc.xpath("//a[@href]"):
            if text in link.text_content():
                return self.get(link.get("href"))
        raise LookupError(f"no link {text!r} on {self.url}")

    def login(self, person_id: str, password: str = "demo",
              auto_post: bool = True) -> requests.Response:
        """Fill in and submit the school's login form (it has `person` and `password`)."""
        form = self.form(lambda f: "password" in f.visible and "person" in f.choices)
        if person_id not in form.choices["person"]:
            raise LookupError(f"{person_id} is not on the login form")
        return self.submit(form, auto_post=auto_post, person=person_id, password=password)

    def _land(self, response: requests.Response, auto_post: bool) -> requests.Response:
        self.history.extend([*response.history, response])
        self._page = response
        posts = refreshes = 0
        while auto_post:
            if (form := _auto_post_form(response)) is not None:
                if posts == self.max_auto_posts:
                    raise RuntimeError(f"more than {self.max_auto_posts} SAML auto-POSTs in a row")
                posts += 1
                self.saml_posts.append({"action": form.action, **form.fields})
                response = self.session.post(form.action, data=form.fields, timeout=TIMEOUT)
            elif (target := _refresh_at_once(response)) is not None:
                if refreshes == self.max_auto_posts:
                    raise RuntimeError(f"more than {self.max_auto_posts} meta refreshes in a row")
                refreshes += 1
                response = self.session.get(target, timeout=TIMEOUT)
            else:
                break
            self.history.extend([*response.history, response])
            self._page = response
        return response


def _auto_post_form(response: requests.Response) -> Form | None:
    forms = parse_forms(response.content, response.url) if is_html(response) else []
    return forms[0] if len(forms) == 1 and forms[0].is_saml_auto_post else None


def _refresh_at_once(response: requests.Response) -> str | None:
    """Where a page's `<meta http-equiv="refresh" content="0;url=...">` goes, at once."""
    if not is_html(response) or not response.content.strip():
        return None
    doc = lxml.html.fromstring(response.content, base_url=response.url)
    for meta in doc.xpath("//meta[@http-equiv]"):
        if meta.get("http-equiv", "").lower() != "refresh":
            continue
        delay, _, rest = meta.get("content", "").partition(";")
        key, _, url = rest.strip().partition("=")
        if delay.strip() == "0" and key.strip().lower() == "url" and url.strip():
            return urljoin(response.url, url.strip().strip("'\""))
    return None


def decode_saml(value: str) -> str:
    """A SAMLRequest/SAMLResponse value as XML: base64, then inflated if it was deflated
    (the HTTP-Redirect binding deflates, HTTP-POST does not)."""
    try:
        raw = base64.b64decode(value, validate=False)
    except binascii.Error as exc:
        raise ValueError("not base64") from exc
    try:
        return zlib.decompress(raw, -15).decode("utf-8")
    except zlib.error:
        return raw.decode("utf-8")


def _always(_form: Form) -> bool:
    return True
