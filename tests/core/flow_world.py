"""A fake school, a fake supplier and an in-memory store around the real Flow: every step of the
login journey runs in a millisecond, without a server, a browser or a protocol library.

The registry is real (SQLite in a temporary folder, imported from a federation file), so hints,
entity ids, policies and suspensions are looked up exactly as in production.
"""

from __future__ import annotations

import itertools
import json
import textwrap
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from broker import codec
from broker.context import Broker
from broker.downstream import DownstreamRequest
from broker.errors import LoginTooOld, UpstreamRejected
from broker.flow import Flow, SsoSession, StartLimit
from broker.identity import AuthnContext, Identity, PendingLogin, Released
from broker.keys import PseudonymKeys
from broker.outgoing import Outgoing
from broker.records import School, Supplier
from broker.registry import Registry, load_federation
from broker.settings import load_settings
from broker.store import MemoryStore
from broker.upstream import Callback
from tests.registry.metadata_xml import idp_metadata

REGENBOOG_IDP = "https://idp.regenboog.example"
FEDERATION = """\
[[schools]]
id = "regenboog"
name = "OBS De Regenboog"
protocol = "saml"
metadata = "regenboog-idp.xml"

[[schools]]
id = "lyceum"
name = "Het Lyceum"
protocol = "oidc"
issuer = "https://login.lyceum.example"
client_id = "loper"
client_secret = "s3cret"
sso_lifetime = 600

[[suppliers]]
id = "taalapp"
name = "Taalapp"
protocol = "oidc"
url = "https://taalapp.example"
client_id = "taalapp"
client_secret = "s3cret"
redirect_uris = ["https://taalapp.example/callback"]

[[suppliers]]
id = "leesplein"
name = "Leesplein"
protocol = "oidc"
url = "https://leesplein.example"
client_id = "leesplein"
client_secret = "s3cret"
redirect_uris = ["https://leesplein.example/callback"]

[[releases]]
school = "regenboog"
supplier = "taalapp"
attributes = ["role", "given_name"]

[[releases]]
school = "lyceum"
supplier = "taalapp"
attributes = ["role"]

[[releases]]
school = "regenboog"
supplier = "leesplein"
attributes = ["role"]
suspended = "contract under review"
"""
PROTOCOL = "fake"
"""The downstream protocol of every login here: the flow only hands it back to FakeDownstream."""
PUPIL = {"role": ("student",), "given_name": ("Sanne",), "family_name": ("de Vries",)}
KEYS = PseudonymKeys(anchor=b"a" * 32, versions={1: b"1" * 32}, current=1)
LIMIT = StartLimit("192.0.2.1", 1_000_000)
"""The starts of one address: never over the limit in these tests."""


def build_registry(folder: Path, federation: str = FEDERATION) -> Registry:
    (folder / "regenboog-idp.xml").write_text(idp_metadata(REGENBOOG_IDP))
    path = folder / "federation.toml"
    path.write_text(textwrap.dedent(federation), encoding="utf-8")
    registry = Registry(f"sqlite:///{folder / 'registry.sqlite'}")
    registry.upgrade()
    registry.import_federation(load_federation(path), key_version=1)
    return registry


@dataclass(frozen=True)
class SchoolState:
    """What the fake school keeps between its redirect and its answer."""

    school: str
    login: str
    max_age: int | None


@dataclass(frozen=True)
class SupplierRequest:
    """What the fake supplier keeps until its answer."""

    return_to: str


@dataclass
class FakeUpstream:
    """A school: it 'logs the pupil in' and answers with whatever the test puts in params.

    Like the SAML upstream (whose protocol has no max_age), it raises LoginTooOld for an
    answer older than the supplier's max_age, and leaves the retry to the flow."""

    sent: list[PendingLogin] = field(default_factory=list)

    def login_redirect(self, school: School, pending: PendingLogin,
                       relay_state: str) -> tuple[Outgoing, bytes]:
        self.sent.append(pending)
        outgoing = Outgoing(f"https://{school.id}.school.example/login", {"relay": relay_state})
        return outgoing, codec.encode(SchoolState(school.id, relay_state, pending.max_age))

    def handle_callback(self, school: School, params: Mapping[str, str],
                        state: bytes) -> Callback:
        kept = codec.decode(state, SchoolState)
        if kept is None or kept.school != school.id:
            raise UpstreamRejected("The fake school's state came back altered.")
        if not params["subject"]:
            raise UpstreamRejected("The fake school named nobody.")
        instant = datetime.fromtimestamp(float(params["instant"]), UTC)
        extra = {name: tuple(values) for name, values in json.loads(params["extra"]).items()}
        identity = Identity(school.id, params["subject"], {**PUPIL, **extra},
                            AuthnContext(instant, params.get("acr", "urn:pw")))
        age = (datetime.now(UTC) - instant).total_seconds()
        if kept.max_age is not None and age > kept.max_age:
            raise LoginTooOld("The fake school's login is older than max_age.")
        return Callback(identity, f"fake-answer:{params['answer']}", 60,
                        session=f"at-school:{params['subject']}".encode())


@dataclass
class FakeDownstream:
    """A supplier: its 'protocol answer' lists what it received."""

    def respond(self, supplier: Supplier, request: bytes, released: Released) -> Outgoing:
        assert released.supplier_id == supplier.id
        return Outgoing(self._read(request).return_to, {
            "sub": released.subject, "school": released.school_id,
            "attributes": ",".join(sorted(released.attributes)),
            "auth_time": str(int(released.authn.instant.timestamp())),
            "sid": released.session})

    def respond_error(self, supplier: Supplier, request: bytes, status: str) -> Outgoing:
        return Outgoing(self._read(request).return_to, {"error": status})

    @staticmethod
    def _read(request: bytes) -> SupplierRequest:
        kept = codec.decode(request, SupplierRequest)
        assert kept is not None, "the flow altered the supplier's request"
        return kept


class Clock:
    """The store's clock: a test moves it on instead of sleeping."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class Store(MemoryStore):
    """The in-memory store, counting the SSO sessions the flow puts."""

    sessions_put = 0

    def put_session(self, session_id: str, data: bytes, ttl: int) -> None:
        self.sessions_put += 1
        super().put_session(session_id, data, ttl)


class World:
    """One broker with a fake school and supplier; a small helper for the journey's steps."""

    def __init__(self, registry: Registry, instance: Path,
                 downstream: FakeDownstream | None = None) -> None:
        self.clock = Clock()
        self.store = Store(clock=self.clock)
        self.upstream = FakeUpstream()
        settings = load_settings({"instance": instance}, environ={})
        self.broker = Broker(settings, self.store, registry, KEYS,
                             upstreams={"saml": self.upstream, "oidc": self.upstream},
                             downstreams={PROTOCOL: downstream or FakeDownstream()})
        self.flow = Flow(self.broker)
        self.answers = itertools.count()

    def supplier(self, supplier_id: str = "taalapp") -> Supplier:
        supplier = self.broker.registry.supplier(supplier_id)
        assert supplier is not None
        return supplier

    def ask(self, supplier: str | Supplier = "taalapp", *, hints: tuple[str, ...] = (),
            browser: str = "browser-1", session: SsoSession | None = None,
            limit: StartLimit = LIMIT, **options: Any) -> Outgoing:
        """A supplier's login request (options: force_authn, passive, max_age)."""
        record = supplier if isinstance(supplier, Supplier) else self.supplier(supplier)
        request = codec.encode(SupplierRequest(f"https://{record.id}.example/callback"))
        return self.flow.start(DownstreamRequest(record, request, hints, **options), PROTOCOL,
                               browser, session, limit)

    def answer(self, sent: Outgoing, *, subject: str = "pupil-1", browser: str = "browser-1",
               age: float = 0, answer: str | None = None, eck_id: str = "",
               attributes: Mapping[str, list[str]] | None = None, acr: str = "urn:pw",
               ) -> tuple[Outgoing, SsoSession | None]:
        """The school's answer to the login it was sent: the pupil logged in `age` seconds ago,
        with PUPIL's attributes and these (and an ECK iD, if given), authenticated by the
        class `acr`."""
        assert sent.form is not None
        extra = {**(attributes or {}), **({"eck_id": [eck_id]} if eck_id else {})}
        params = {"subject": subject, "instant": str(time.time() - age),
                  "answer": answer or str(next(self.answers)), "extra": json.dumps(extra),
                  "acr": acr}
        return self.flow.finish(sent.form["relay"], params, browser)

    def pick(self, picker: Outgoing, school: str, browser: str = "browser-1") -> Outgoing:
        """The pupil picks a school in the picker the flow sent them to."""
        login_id = picker_login(picker)
        return self.flow.choose_school(self.flow.pending(login_id, browser), school)

    def logged_in(self, school: str = "regenboog", age: float = 0) -> SsoSession:
        """A pupil with an SSO session, read back from the store as the next request would."""
        _, session = self.answer(self.ask(hints=(school,)), age=age)
        assert session is not None
        found = self.flow.session(session.id)
        assert found is not None
        return found


def picker_login(outgoing: Outgoing) -> str:
    """The login id in a redirect to the school picker (fails on anything else)."""
    parts = urlsplit(outgoing.url)
    assert parts.path == "/discovery" and outgoing.form is None, outgoing
    return parse_qs(parts.query)["login"][0]
