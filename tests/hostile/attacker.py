"""The attacker's tools for the hostile-input suite, and the checks every refusal must pass.

A refusal (`refused`) is a 4xx, never a 5xx or a stack trace: Loper's error page with an error
id (or the protocol's JSON error), no SSO session cookie, no redirect or auto-POST that carries
a code, token or assertion. Around it, `StateWatch` sees that nothing was written to the state
store, `Traffic` that no peer was called, `LogSink` that only reason-coded lines were logged.

`SchoolSide` crafts a school's answers with the running school's own key
(demo/school_saml.py `SchoolIdpTool.build_response`), and lends itself to
tests/upstream/saml_idp.py `Tamper` for the edits pysaml2 will not make.
"""

from __future__ import annotations

import base64
import copy
import datetime as dt
import html
import http.client
import io
import logging
import re
import secrets
import socket
import threading
import types
import zlib
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, quote_plus, urlsplit

import redis
import requests
import requests.adapters
import requests.structures
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from flask import Flask
from lxml import etree
from requests.cookies import extract_cookies_to_jar
from urllib3 import HTTPHeaderDict

from broker.keys import KeyPair
from broker.records import Policy, School
from broker.registry.federation import Federation as RegistryFederation
from broker.upstream.saml_kind import SamlSchool
from demo.keys import ensure_keypair
from demo.school_idp import KEY_NAME, school_tool
from demo.school_saml import SchoolIdpTool
from tests.error_log import says
from tests.flows.conftest import Federation
from tests.peers.browser import Browser, decode_saml, parse_forms
from tests.upstream.saml_idp import Tamper

ERROR_ID = re.compile(r'class="error-id">([0-9a-f]{12})<')
SAML_NS = {"samlp": "urn:oasis:names:tc:SAML:2.0:protocol",
           "saml": "urn:oasis:names:tc:SAML:2.0:assertion",
           "ds": "http://www.w3.org/2000/09/xmldsig#"}
SSO_COOKIE = "loper_sso"
TIMEOUT = 10.0


def xml_parser() -> etree.XMLParser:
    return etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)


def query_of(url: str) -> dict[str, str]:
    return dict(parse_qsl(urlsplit(url).query, keep_blank_values=True))


# -- what a refusal looks like ----------------------------------------------------------------

def sets_sso_cookie(response: requests.Response) -> bool:
    return any(value.startswith(f"{SSO_COOKIE}=") and not value.startswith(f"{SSO_COOKIE}=;")
               for value in response.raw.headers.getlist("Set-Cookie"))


def refused(response: requests.Response, status: int | tuple[int, ...] | None = None,
            *words: str) -> str:
    """Loper's error page (or JSON error), 4xx; returns the error id (or the OAuth error)."""
    expected = (status,) if isinstance(status, int) else status
    assert 400 <= response.status_code < 500, (response.status_code, _message(response.text))
    assert expected is None or response.status_code in expected, (
        response.status_code, _message(response.text))
    assert "Traceback" not in response.text and 'File "' not in response.text
    assert not sets_sso_cookie(response), "a refusal must not start a session"
    assert "Location" not in response.headers, response.headers.get("Location")
    if "html" in response.headers.get("Content-Type", ""):
        for form in parse_forms(response.content, response.url):
            assert not {"SAMLResponse", "code", "id_token"} & form.fields.keys(), form.action
    for word in words:  # what was wrong: on the page, or in the log next to its error id
        assert says(response.text, word), (word, _message(response.text))
    if response.headers.get("Content-Type", "").startswith("application/json"):
        error = response.json().get("error")
        assert isinstance(error, str) and error, response.text
        return error
    found = ERROR_ID.search(response.text)
    assert found, "Loper's error page shows an error id: " + response.text[:400]
    return found.group(1)


def _message(page: str) -> str:
    """The title and message of Loper's error page (for assertion messages)."""
    start = page.find("<h1>")
    return page[start:page.find("</p>", start) + 4] if start >= 0 else page[:600]


def send(browser: Browser, method: str, url: str, **kwargs: Any) -> requests.Response:
    """One request from this browser (its cookies), no redirect followed, no form posted."""
    response = browser.session.request(method, url, allow_redirects=False, timeout=TIMEOUT,
                                       **kwargs)
    browser.history.append(response)
    return response


# -- the state store, the peers, the logs ----------------------------------------------------

START_COUNTER = b"loper:hits:login-start:127.0.0.1"
"""The state store's counter of the logins this test machine's address started."""


class StateWatch:
    """What Loper writes: the keys in its Redis, and the rows of its release ledger."""

    def __init__(self, url: str, ledger_rows: Callable[[], int]) -> None:
        self.client = redis.Redis.from_url(url)
        self.ledger_rows = ledger_rows

    def keys(self) -> set[bytes]:
        return set(self.client.scan_iter(count=1000))

    @contextmanager
    def unchanged(self, *, counted: bool = False) -> Iterator[None]:
        """Nothing new in the state store and the ledger across the block; `counted`: but for
        the address's counter of login starts (a request Loper answers counts as a start)."""
        before, rows = self.keys(), self.ledger_rows()
        yield
        added = self.keys() - before - ({START_COUNTER} if counted else set())
        assert not added, f"written to the state store: {sorted(added)[:5]}"
        assert self.ledger_rows() == rows, "a release was written to the ledger"

    def sessions(self) -> set[bytes]:
        return set(self.client.scan_iter(match=b"loper:session:*", count=1000))

    def close(self) -> None:
        self.client.close()


@dataclass(frozen=True)
class Hit:
    peer: str
    method: str
    path: str
    query: str
    body: bytes
    headers: Mapping[str, str]


class _Recorder:
    """WSGI middleware: remembers every request a peer receives, then serves it."""

    def __init__(self, name: str, app: Any, hits: list[Hit], lock: threading.Lock) -> None:
        self.name, self.app, self.hits, self.lock = name, app, hits, lock

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        length = int(environ.get("CONTENT_LENGTH") or 0)
        body = environ["wsgi.input"].read(length) if length else b""
        environ["wsgi.input"] = io.BytesIO(body)
        headers = {k[5:].replace("_", "-").title(): v for k, v in environ.items()
                   if k.startswith("HTTP_")}
        with self.lock:
            self.hits.append(Hit(self.name, environ["REQUEST_METHOD"], environ["PATH_INFO"],
                                 environ.get("QUERY_STRING", ""), body, headers))
        return self.app(environ, start_response)


class _Tap:
    """WSGI middleware around Loper: keeps the bodies it answers on some paths."""

    def __init__(self, app: Any, paths: tuple[str, ...], answers: list[tuple[str, bytes]],
                 lock: threading.Lock) -> None:
        self.app, self.paths, self.answers, self.lock = app, paths, answers, lock

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        path = environ["PATH_INFO"]
        if path not in self.paths:
            return self.app(environ, start_response)
        result = self.app(environ, start_response)
        try:
            body = b"".join(result)
        finally:
            if hasattr(result, "close"):
                result.close()
        with self.lock:
            self.answers.append((path, body))
        return [body]


@dataclass
class Traffic:
    """What the peers (schools, suppliers) received: a hit caused by Loper or a browser."""

    hits: list[Hit] = field(default_factory=list)
    answers: list[tuple[str, bytes]] = field(default_factory=list)
    """(path, body) of Loper's answers on the tapped paths."""
    lock: threading.Lock = field(default_factory=threading.Lock)

    def install(self, apps: Mapping[str, Flask]) -> None:
        for name, app in apps.items():
            if name != "broker" and not isinstance(app.wsgi_app, _Recorder):
                app.wsgi_app = _Recorder(name, app.wsgi_app, self.hits,  # type: ignore[method-assign]
                                         self.lock)

    def mark(self) -> int:
        with self.lock:
            return len(self.hits)

    def since(self, mark: int) -> list[Hit]:
        with self.lock:
            return list(self.hits[mark:])

    def tap(self, app: Flask, paths: Sequence[str]) -> None:
        """Also keep what Loper answers on `paths` (what the back channel hands a supplier)."""
        if not isinstance(app.wsgi_app, _Tap):
            app.wsgi_app = _Tap(app.wsgi_app, tuple(paths), self.answers,  # type: ignore[method-assign]
                                self.lock)

    @contextmanager
    def none(self) -> Iterator[None]:
        """No peer is called across the block (the block must not drive the browser)."""
        mark = self.mark()
        yield
        assert not self.since(mark), [f"{h.peer} {h.method} {h.path}" for h in self.since(mark)]


class LogSink(logging.Handler):
    """Every record of the process (Loper's, its libraries'), formatted with its extras."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)

    def mark(self) -> int:
        return len(self.records)

    def since(self, mark: int) -> list[logging.LogRecord]:
        return self.records[mark:]

    @staticmethod
    def text(record: logging.LogRecord) -> str:
        extras = {k: v for k, v in vars(record).items() if k not in _RESERVED}
        return f"{record.name} {record.getMessage()} {extras} {record.exc_text or ''}"

    @contextmanager
    def attached(self, logger: logging.Logger | None = None) -> Iterator[LogSink]:
        target = logger or logging.getLogger()
        target.addHandler(self)
        try:
            yield self
        finally:
            target.removeHandler(self)


_RESERVED = set(vars(logging.makeLogRecord({}))) | {"message", "asctime"}


def reason_coded(records: list[logging.LogRecord]) -> None:
    """Loper logged the refusal with its reason code, and nothing above a warning."""
    ours = [record for record in records if record.name.startswith("loper")]
    for record in ours:
        assert record.levelno < logging.ERROR, LogSink.text(record)
        if record.getMessage() == "request failed":
            assert getattr(record, "code", None) and getattr(record, "error_id", None)
    assert any(getattr(record, "code", None) or getattr(record, "error", None)
               for record in ours), [LogSink.text(record) for record in ours]


# -- a listener that must stay silent --------------------------------------------------------

class Listener:
    """A TCP listener on loopback that counts who connects (it answers nothing)."""

    def __init__(self) -> None:
        self.socket = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.socket.bind(("127.0.0.1", 0))
        self.socket.listen(16)
        self.socket.settimeout(0.05)
        self.port = int(self.socket.getsockname()[1])
        self.url = f"http://127.0.0.1:{self.port}"
        self.connections = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._accept, name="hostile-listener",
                                        daemon=True)

    def _accept(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self.socket.accept()
            except (TimeoutError, OSError):
                continue
            self.connections += 1
            conn.close()

    def __enter__(self) -> Listener:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
        self.socket.setblocking(False)
        while True:  # connections still waiting in the backlog count too
            try:
                conn, _ = self.socket.accept()
            except OSError:
                break
            self.connections += 1
            conn.close()
        self.socket.close()


# -- the school, played by the attacker --------------------------------------------------------

@dataclass(frozen=True)
class Started:
    """A login waiting at a school: the AuthnRequest id and the RelayState (login id)."""

    request_id: str
    relay_state: str


class SchoolSide:
    """Crafts a SAML school's answers with that school's own key; by default the running school
    (OBS De Regenboog) and its key."""

    def __init__(self, federation: Federation, tool: SchoolIdpTool | None = None,
                 keys: KeyPair | None = None, school_id: str = "regenboog") -> None:
        running = federation.running
        state = running.folder / "peers" / "school"
        self.federation = federation
        self.school_id = school_id
        self.tool: SchoolIdpTool = tool or school_tool(running.school, state,
                                                       federation.broker.metadata["saml-sp"])
        self.keys = keys or KeyPair(*ensure_keypair(state, KEY_NAME))
        self.sso = self.entity_id.rsplit("/", 1)[0] + "/sso/"
        self.acs = running.broker + "/saml/sp/acs"
        self.sp_entity_id = running.broker + "/saml/sp/metadata"

    @property
    def entity_id(self) -> str:
        return self.tool.entity_id

    def start(self, browser: Browser, supplier: str = "rekenwonders",
              **params: str) -> Started:
        """Start a login at a SAML supplier with this school as hint; stop where the browser
        would go to the school (the school itself is never asked)."""
        url = f"{self.federation.supplier(supplier)}/login"
        response = send(browser, "GET", url, params={"school": self.school_id, **params})
        for _ in range(5):
            location = response.headers.get("Location", "")
            assert response.status_code in (302, 303) and location, response.text[:400]
            if location.startswith(self.sso):
                query = query_of(location)
                request = etree.fromstring(decode_saml(query["SAMLRequest"]).encode(),
                                           xml_parser())
                return Started(str(request.get("ID")), query["RelayState"])
            response = send(browser, "GET", location)
        raise AssertionError(f"the login did not go to {self.sso}")

    def answer(self, started: Started, **options: Any) -> str:
        """A SAMLResponse (base64) for `started`; options as build_response's keywords."""
        args: dict[str, Any] = {"in_response_to": started.request_id, "destination": self.acs,
                                "audience": self.sp_entity_id,
                                "person": self.federation.pupil}
        args.update(options)
        return self.tool.build_response(**args)

    def respond(self, started: Started, *, sign_assertion: bool = True,
                **options: Any) -> str:
        """The Response XML (what Tamper asks its `idp` for)."""
        return base64.b64decode(self.answer(started, sign_assertion=sign_assertion,
                                            **options)).decode()

    def tamper(self, started: Started, **options: Any) -> Tamper:
        """An unsigned answer to edit, then sign (Tamper.signed) with the school's key."""
        return Tamper(self, started, **options)  # type: ignore[arg-type]

    def post(self, browser: Browser, started: Started, saml_response: str,
             relay_state: str | None = None) -> requests.Response:
        return send(browser, "POST", self.acs, data={
            "SAMLResponse": saml_response,
            "RelayState": started.relay_state if relay_state is None else relay_state})


def add_saml_school(federation: Federation, school_id: str, folder: Path,
                    releases: Mapping[str, Sequence[str]]) -> SchoolSide:
    """Register one more SAML school (its own keys and entity id; nobody serves its pages)."""
    key, cert = ensure_keypair(folder, school_id)
    tool = SchoolIdpTool(f"https://idp.{school_id}.example/metadata", key, cert,
                         federation.broker.metadata["saml-sp"], name=school_id.title())
    school = School(school_id, school_id.title(), SamlSchool(tool.metadata_xml(), tool.entity_id))
    policies = tuple(Policy(school_id, supplier, frozenset(names))
                     for supplier, names in releases.items())
    broker = federation.broker
    broker.registry.import_federation(RegistryFederation(schools=(school,), policies=policies),
                                      key_version=broker.pseudonym_keys.current)
    return SchoolSide(federation, tool, KeyPair(key, cert), school_id)


# -- signatures made the way a careless verifier would accept them ----------------------------

def c14n(element: etree._Element) -> bytes:
    """Exclusive XML canonicalisation without comments (what the school's signatures use)."""
    return bytes(etree.tostring(element, method="c14n", exclusive=True))


def resign(signed: etree._Element, method: str, sign: Callable[[bytes], bytes], *,
           digest: tuple[str, Callable[[bytes], bytes]] | None = None,
           method_children: Sequence[etree._Element] = ()) -> None:
    """Re-sign the enveloped signature of `signed` with another algorithm: `sign` computes the
    SignatureValue over the canonical SignedInfo; `digest` (algorithm, hash) recomputes the
    DigestValue too. The result is valid under that algorithm, as a weak verifier checks it."""
    signature = signed.find("ds:Signature", SAML_NS)
    info = signature.find("ds:SignedInfo", SAML_NS)
    method_element = info.find("ds:SignatureMethod", SAML_NS)
    method_element.set("Algorithm", method)
    for child in method_children:
        method_element.append(child)
    if digest is not None:
        algorithm, hash_of = digest
        reference = info.find("ds:Reference", SAML_NS)
        reference.find("ds:DigestMethod", SAML_NS).set("Algorithm", algorithm)
        unsigned = copy.deepcopy(signed)
        unsigned.remove(unsigned.find("ds:Signature", SAML_NS))
        reference.find("ds:DigestValue", SAML_NS).text = base64.b64encode(
            hash_of(c14n(unsigned))).decode()
    signature.find("ds:SignatureValue", SAML_NS).text = base64.b64encode(
        sign(c14n(info))).decode()


def root_of(saml_response: str) -> etree._Element:
    return etree.fromstring(base64.b64decode(saml_response), xml_parser())


def encode(root: etree._Element | bytes) -> str:
    raw = root if isinstance(root, bytes) else etree.tostring(root)
    return base64.b64encode(raw).decode("ascii")


# -- a supplier, played by the attacker -------------------------------------------------------

SHA256_SIGALG = "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256"


def authn_request(issuer: str, *, destination: str | None = None, acs: str | None = None,
                  index: str | None = None, binding: str | None = None,
                  passive: str | None = None, force: str | None = None,
                  name_id_policy: str = "", inner: str = "",
                  issued: dt.datetime | None = None) -> bytes:
    """An AuthnRequest as a supplier's SP writes it; every optional part only when given."""
    moment = (issued or dt.datetime.now(dt.UTC)).strftime("%Y-%m-%dT%H:%M:%SZ")
    attributes = {"Destination": destination, "AssertionConsumerServiceURL": acs,
                  "AssertionConsumerServiceIndex": index, "ProtocolBinding": binding,
                  "IsPassive": passive, "ForceAuthn": force}
    extra = "".join(f' {name}="{html.escape(value)}"' for name, value in attributes.items()
                    if value is not None)
    return (f'<samlp:AuthnRequest xmlns:samlp="{SAML_NS["samlp"]}" '
            f'xmlns:saml="{SAML_NS["saml"]}" ID="_{secrets.token_hex(12)}" Version="2.0" '
            f'IssueInstant="{moment}"{extra}><saml:Issuer>{html.escape(issuer)}</saml:Issuer>'
            f'{inner}{name_id_policy}</samlp:AuthnRequest>').encode()


def deflated(xml: bytes) -> str:
    """The SAMLRequest of the HTTP-Redirect binding: raw DEFLATE, then base64."""
    packer = zlib.compressobj(9, zlib.DEFLATED, -15)
    return base64.b64encode(packer.compress(xml) + packer.flush()).decode("ascii")


def signed_query(fields: Mapping[str, str], key_file: Path, sig_alg: str = SHA256_SIGALG,
                 sign: Callable[[bytes], bytes] | None = None) -> str:
    """The HTTP-Redirect binding's signed query (SAML bindings 3.4.4.1): `fields` in order,
    then SigAlg and Signature; `sign` replaces RSA-SHA256 with the key."""
    query = "&".join(f"{name}={quote_plus(value)}" for name, value in
                     [*fields.items(), ("SigAlg", sig_alg)])
    if sign is None:
        key = serialization.load_pem_private_key(key_file.read_bytes(), None)
        assert isinstance(key, rsa.RSAPrivateKey)
        signature = key.sign(query.encode(), padding.PKCS1v15(), hashes.SHA256())
    else:
        signature = sign(query.encode())
    return f"{query}&Signature={quote_plus(base64.b64encode(signature).decode())}"


# -- Loper at an https address, served in-process ---------------------------------------------

class InProcess(requests.adapters.BaseAdapter):
    """A requests adapter that hands requests for one origin to a Flask app's test client,
    cookies included (so a Browser can visit Loper at https://loper.example without TLS)."""

    def __init__(self, app: Flask) -> None:
        super().__init__()
        self.client = app.test_client(use_cookies=False)

    def send(self, request: requests.PreparedRequest, *args: Any,
             **kwargs: Any) -> requests.Response:
        url = urlsplit(request.url or "")
        body = request.body.encode() if isinstance(request.body, str) else request.body
        answer = self.client.open(url.path, base_url=f"{url.scheme}://{url.netloc}",
                                  query_string=url.query, method=request.method or "GET",
                                  headers=dict(request.headers), data=body)
        headers = HTTPHeaderDict()
        message = http.client.HTTPMessage()
        for name, value in answer.headers.items():
            headers.add(name, value)
            message.add_header(name, value)
        response = requests.Response()
        response.status_code, response.url, response.request = (answer.status_code,
                                                                request.url or "", request)
        response._content = answer.get_data()
        response.headers = requests.structures.CaseInsensitiveDict(headers)
        response.raw = _Raw(headers, message)
        response.encoding = "utf-8"
        extract_cookies_to_jar(response.cookies, request, response.raw)
        answer.close()
        return response

    def close(self) -> None:
        pass


@dataclass
class _Raw:
    """What requests reads from urllib3's response: the headers, and the message cookies
    come from."""

    headers: HTTPHeaderDict
    message: http.client.HTTPMessage

    @property
    def _original_response(self) -> Any:
        return types.SimpleNamespace(msg=self.message)

    def release_conn(self) -> None:
        pass
