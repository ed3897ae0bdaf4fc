"""Deployment settings: defaults, then the instance's broker.toml, then BROKER_* environment
variables, then explicit overrides (tests). Validated once, at start-up, with messages that
say what to fix.
"""

from __future__ import annotations

import importlib.util
import ipaddress
import os
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any, SupportsIndex, SupportsInt, cast
from urllib.parse import urlsplit

from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from broker.errors import ConfigError
from broker.outbound.policy import is_loopback
from broker.settings_checks import check_mail, check_presentation, positive

IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

SETTINGS_FILE = "broker.toml"
ENV_PREFIX = "BROKER_"
MAX_OUTBOUND_TIMEOUT = 25
"""Below gunicorn's worker timeout (30 s, config/gunicorn.conf.py) with room to answer."""
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")
REGISTRY_DRIVERS = {"sqlite": None, "sqlite+pysqlite": None, "postgresql+psycopg": "psycopg"}
"""The registry databases Loper runs on (SQLite, PostgreSQL through psycopg 3), with the
module each needs beyond the standard library."""
REGISTRY_URLS = "sqlite:///PATH or postgresql+psycopg://USER@HOST[:PORT]/DATABASE"


@dataclass(frozen=True)
class Settings:
    instance: Path
    base_url: str = "http://127.0.0.1:5000"
    state_url: str = ""
    """sqlite:///... (embedded, default: state.sqlite in the instance) or redis://..."""
    registry_url: str = ""
    """SQLAlchemy URL (default: registry.sqlite in the instance)."""
    sso_lifetime: int = 8 * 3600
    pending_ttl: int = 15 * 60
    clock_skew: int = 60
    saml_encryption: str = "aes256-gcm"
    relay_state_max: int = 1024
    log_level: str = "INFO"
    login_starts_per_minute: int = 1200
    """Logins one client address may start per minute (a whole school may share one)."""
    trusted_proxies: int = 0
    """How many reverse proxies in front of Loper set X-Forwarded-For/-Proto (0: none)."""
    metrics_allow: str = "loopback, proxies"
    """Who may read /metrics: comma-separated addresses or networks (10.0.0.0/8), `loopback`,
    and `proxies` (a trusted proxy asking for itself, without X-Forwarded-For); empty: nobody."""
    log_format: str = "text"
    """"text" (one line, key=value pairs) or "json" (one JSON object per line)."""
    outbound_timeout: int = 10
    """Seconds one outbound call (a school's discovery, keys, tokens, user info, a metadata
    URL) may take in all, from connect to last byte."""
    logout_timeout: int = 3
    """Seconds one back-channel logout (an OIDC logout token) may take; they are all sent at
    once, so the pupil waits this long at most for an app that does not answer."""
    outbound_failure_ttl: int = 30
    """Seconds a school that timed out is answered "does not answer" at once (per process)."""
    outbound_per_host: int = 8
    """Calls to one school's server that may wait at once, per worker process; more are
    answered "does not answer" at once. Keep it below gunicorn's threads per worker."""
    picker_help_nl: str = ""
    picker_help_en: str = ""
    """What the school picker says under "Is your school not listed?" (default: try part of
    the name or the town, else ask the teacher): e.g. the helpdesk of this federation."""
    # What Loper's SAML metadata shows about Loper (broker/saml/published.py)
    metadata_display_name_nl: str = "Loper"
    metadata_display_name_en: str = "Loper"
    metadata_description_nl: str = "Inloggen met je schoolaccount bij je leermiddelen."
    metadata_description_en: str = "Log in to your learning apps with your school account."
    metadata_information_url: str = ""
    """https URL of a page about this Loper (default: its /me page)."""
    metadata_privacy_url: str = ""
    """https URL of the privacy statement (default: the /me page, what Loper passes on)."""
    metadata_logo_url: str = ""
    """https (or data:image/...) URL of the logo (default: Loper's name on a tile, inline)."""
    metadata_logo_width: int = 80
    metadata_logo_height: int = 60
    contact_technical_email: str = ""
    """Published as the technical contact when set."""
    contact_support_email: str = ""
    """Published as the support contact when set."""
    metadata_valid_days: int = 7
    """validUntil of Loper's metadata: this many days after it was rendered."""
    metadata_cache_hours: int = 6
    """cacheDuration of Loper's metadata: how long readers may keep a copy."""
    metadata_signing_key: str = ""
    """A key pair in the instance folder, without suffix ("keys/metadata-signing": its .key
    and .crt files, PEM) that signs Loper's IdP metadata; empty: unsigned."""
    # E-mail to admins (invitations, password resets): broker/mail.py
    smtp_host: str = ""
    """Empty: no e-mail; the portal shows an invitation link to the admin who made it."""
    smtp_port: int = 587
    smtp_security: str = "starttls"
    """"starttls", "tls" (implicit TLS, port 465) or "none" (a relay on a loopback address)."""
    smtp_username: str = ""
    smtp_password: str = field(default="", repr=False)
    """From the environment only (BROKER_SMTP_PASSWORD), never from broker.toml."""
    mail_from: str = ""
    invitation_ttl: int = 72 * 3600
    """Seconds an invitation link to become an admin stays valid."""
    password_reset_ttl: int = 3600
    """Seconds a password reset link stays valid."""

    @property
    def metadata_signing(self) -> tuple[Path, Path] | None:
        """The key and certificate files of metadata_signing_key, or None."""
        if not self.metadata_signing_key:
            return None
        stem = self.instance / self.metadata_signing_key
        return stem.with_name(stem.name + ".key"), stem.with_name(stem.name + ".crt")

    @property
    def keys_dir(self) -> Path:
        return self.instance / "keys"

    @property
    def host(self) -> str:
        return urlsplit(self.base_url).hostname or "localhost"

    @property
    def secure(self) -> bool:
        """Cookies carry Secure unless Loper is served over plain http on loopback."""
        return urlsplit(self.base_url).scheme == "https"

    def url(self, path: str) -> str:
        return self.base_url + path


_INT_FIELDS = {f.name for f in fields(Settings) if f.type in ("int", int)}
_KNOWN = {f.name for f in fields(Settings)}


def redacted_url(url: str) -> str:
    """The URL without its user and password, fit for a message or a log."""
    return re.sub(r"(?<=://)[^/@]*@", "***@", url)


def _from_file(instance: Path) -> dict[str, object]:
    path = instance / SETTINGS_FILE
    if not path.exists():
        return {}
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"{path}: cannot be read as TOML: {exc}") from exc
    if "smtp_password" in data:
        raise ConfigError(f"{path}: smtp_password is a secret: set it in the environment "
                          "(BROKER_SMTP_PASSWORD), not in a file")
    unknown = sorted(set(data) - _KNOWN)
    if unknown:
        raise ConfigError(f"{path}: unknown setting(s) {', '.join(unknown)}; "
                          f"known settings: {', '.join(sorted(_KNOWN - {'instance'}))}")
    return data


def _from_env(environ: Mapping[str, str]) -> dict[str, object]:
    return {name: environ[ENV_PREFIX + name.upper()] for name in _KNOWN - {"instance"}
            if ENV_PREFIX + name.upper() in environ}


def _coerce(raw: Mapping[str, object]) -> dict[str, str | int]:
    """Each setting as its field's type (a whole number or a string), or ConfigError."""
    values: dict[str, str | int] = {}
    for name, value in raw.items():
        if name in _INT_FIELDS:
            values[name] = _whole(name, value)
        elif isinstance(value, str):
            values[name] = value
        else:
            raise ConfigError(f"setting {name}: expected a string, got {value!r}")
    return values


def _whole(name: str, value: object) -> int:
    try:
        if not isinstance(value, SupportsInt | SupportsIndex | str | bytes | bytearray):
            raise TypeError(value)  # what int() takes
        number = int(value)
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"setting {name}: expected a whole number, got {value!r}") from exc
    if number < 0:
        raise ConfigError(f"setting {name}: must not be negative, got {number}")
    return number


def _validate(s: Settings) -> None:
    parts = urlsplit(s.base_url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ConfigError(f"setting base_url: expected an absolute http(s) URL, got {s.base_url!r}")
    if parts.scheme == "http" and not is_loopback(parts.hostname):
        raise ConfigError(
            f"setting base_url: {s.base_url!r} uses plain http on a public host; use https "
            "(plain http is accepted only on loopback addresses, for tests and the demo)")
    if parts.path.rstrip("/") or parts.query or parts.fragment:
        raise ConfigError(f"setting base_url: expected scheme://host[:port] without a path, "
                          f"got {s.base_url!r}")
    if not s.state_url.startswith(("sqlite:///", "redis://", "rediss://", "unix://",
                                   "redis+sentinel://", "redis+cluster://")):
        raise ConfigError(f"setting state_url: expected sqlite:///PATH, redis://HOST:PORT/DB, "
                          f"redis+sentinel://HOST:PORT[,HOST:PORT]/SERVICE[/DB] or "
                          f"redis+cluster://HOST:PORT[,HOST:PORT], got "
                          f"{redacted_url(s.state_url)!r}")
    if s.saml_encryption not in ("aes256-gcm", "aes128-gcm", "aes256-cbc", "aes128-cbc"):
        raise ConfigError("setting saml_encryption: expected aes256-gcm, aes128-gcm, "
                          f"aes256-cbc or aes128-cbc, got {s.saml_encryption!r}")
    positive({"sso_lifetime": s.sso_lifetime, "pending_ttl": s.pending_ttl,
              "relay_state_max": s.relay_state_max,
              "login_starts_per_minute": s.login_starts_per_minute,
              "outbound_per_host": s.outbound_per_host, "logout_timeout": s.logout_timeout})
    check_presentation(s)
    check_mail(s)
    metrics_allowed(s.metrics_allow)
    check_registry_url(s.registry_url)
    if s.log_level.upper() not in LOG_LEVELS:
        raise ConfigError(f"setting log_level: expected {', '.join(LOG_LEVELS[:-1])} or "
                          f"{LOG_LEVELS[-1]}, got {s.log_level!r}")
    if s.log_format not in ("text", "json"):
        raise ConfigError(f"setting log_format: expected text or json, got {s.log_format!r}")
    if not 1 <= s.outbound_timeout <= MAX_OUTBOUND_TIMEOUT:
        raise ConfigError(f"setting outbound_timeout: expected 1 to {MAX_OUTBOUND_TIMEOUT} "
                          f"seconds, got {s.outbound_timeout} (a pupil waits this long for a "
                          "school that does not answer)")


def check_registry_url(url: str) -> None:
    """ConfigError unless `url` names a registry database Loper runs on, with its driver
    installed: a URL SQLAlchemy cannot parse, or one for another database or driver, would
    otherwise fail deep inside SQLAlchemy."""
    shown = redacted_url(url)
    try:
        driver = make_url(url).drivername
    except ArgumentError:
        raise ConfigError(f"setting registry_url: {shown!r} is not a database URL; expected "
                          f"{REGISTRY_URLS}") from None
    if driver not in REGISTRY_DRIVERS:
        raise ConfigError(f"setting registry_url: {shown!r} names {driver}, which Loper does not "
                          f"run on; expected {REGISTRY_URLS}")
    module = REGISTRY_DRIVERS[driver]
    if module is not None and importlib.util.find_spec(module) is None:
        raise ConfigError(f"setting registry_url: {shown!r} needs the Python package {module}, "
                          f"which is not installed: pip install '{module}[binary]'")


LOOPBACK, PROXIES = "loopback", "proxies"


def metrics_allowed(value: str) -> tuple[frozenset[str], tuple[IPNetwork, ...]]:
    """The words (loopback, proxies) and networks of the metrics_allow setting."""
    words: set[str] = set()
    networks: list[IPNetwork] = []
    for item in filter(None, (part.strip() for part in value.split(","))):
        if item in (LOOPBACK, PROXIES):
            words.add(item)
            continue
        try:
            networks.append(ipaddress.ip_network(item, strict=False))
        except ValueError as exc:
            raise ConfigError(f"setting metrics_allow: {item!r} is no address or network; "
                              "expected e.g. \"loopback, proxies, 10.1.2.0/24\"") from exc
    return frozenset(words), tuple(networks)


def load_settings(overrides: Mapping[str, object] | None = None,
                  environ: Mapping[str, str] | None = None) -> Settings:
    """Read the settings for one deployment; raise ConfigError saying what to fix."""
    env = os.environ if environ is None else environ
    overrides = dict(overrides or {})
    given = overrides.pop("instance", None) or env.get("BROKER_INSTANCE") or "instance"
    if not isinstance(given, str | os.PathLike):
        raise TypeError(f"instance: expected a path, got {given!r}")
    instance = Path(given).resolve()
    raw = {**_from_file(instance), **_from_env(env), **overrides}
    unknown = sorted(set(raw) - _KNOWN)
    if unknown:
        raise ConfigError(f"unknown setting(s): {', '.join(unknown)}")
    values = _coerce(raw)
    if not values.get("state_url"):
        values["state_url"] = f"sqlite:///{instance / 'state.sqlite'}"
    if not values.get("registry_url"):
        values["registry_url"] = f"sqlite:///{instance / 'registry.sqlite'}"
    values["base_url"] = str(values.get("base_url", Settings.base_url)).rstrip("/")
    # By name: _coerce gave each value its field's type (_INT_FIELDS are int, the rest str).
    settings = Settings(instance=instance, **cast(dict[str, Any], values))
    _validate(settings)
    return settings
