"""The checks of two groups of settings: what Loper's SAML metadata presents (names, links,
logo, contacts, validity) and the mail server. Part of validating the settings once, at
start-up (broker/settings.py), with messages that say what to fix.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from broker.errors import ConfigError
from broker.outbound.policy import is_loopback

if TYPE_CHECKING:
    from broker.settings import Settings

_EMAIL = re.compile(r"[^@\s<>\"]+@[^@\s<>\"]+\.[^@\s<>\"]+")


def _check_url(name: str, value: str, *, data_image: bool = False) -> None:
    if data_image and value.startswith("data:image/"):
        return
    parts = urlsplit(value)
    if parts.scheme != "https" and not (parts.scheme == "http" and is_loopback(
            parts.hostname or "")) or not parts.hostname or any(c.isspace() for c in value):
        raise ConfigError(f"setting {name}: expected an https URL"
                          + (" or a data:image/ URL" if data_image else "") + f", got {value!r}")


def check_presentation(s: Settings) -> None:
    for name in ("metadata_display_name_nl", "metadata_display_name_en",
                 "metadata_description_nl", "metadata_description_en"):
        if not getattr(s, name).strip() or len(getattr(s, name)) > 400:
            raise ConfigError(f"setting {name}: expected a text of 1 to 400 characters")
    for name in ("metadata_information_url", "metadata_privacy_url", "metadata_logo_url"):
        if getattr(s, name):
            _check_url(name, getattr(s, name), data_image=name == "metadata_logo_url")
    for name in ("contact_technical_email", "contact_support_email"):
        if getattr(s, name) and not _EMAIL.fullmatch(getattr(s, name)):
            raise ConfigError(f"setting {name}: expected an e-mail address, "
                              f"got {getattr(s, name)!r}")
    for name in ("metadata_logo_width", "metadata_logo_height", "metadata_valid_days",
                 "metadata_cache_hours"):
        if getattr(s, name) <= 0:
            raise ConfigError(f"setting {name}: must be positive")
    key = Path(s.metadata_signing_key)
    if s.metadata_signing_key and (key.is_absolute() or ".." in key.parts):
        raise ConfigError("setting metadata_signing_key: expected a path inside the instance "
                          f"folder without .key/.crt (e.g. keys/metadata-signing), got {key}")
    if s.metadata_cache_hours > s.metadata_valid_days * 24:
        raise ConfigError("setting metadata_cache_hours: must not exceed metadata_valid_days "
                          "(a copy kept that long would expire while in use)")


def check_mail(s: Settings) -> None:
    for name in ("invitation_ttl", "password_reset_ttl"):
        if getattr(s, name) <= 0:
            raise ConfigError(f"setting {name}: must be positive")
    if not s.smtp_host:
        return
    if s.smtp_security not in ("starttls", "tls", "none"):
        raise ConfigError("setting smtp_security: expected starttls, tls or none, "
                          f"got {s.smtp_security!r}")
    if s.smtp_security == "none" and not is_loopback(s.smtp_host):
        raise ConfigError(f"setting smtp_security: plain SMTP to {s.smtp_host!r} would send "
                          "login links readable on the network; use starttls or tls (none is "
                          "accepted only for a relay on a loopback address)")
    if not 0 < s.smtp_port < 65536:
        raise ConfigError(f"setting smtp_port: expected 1 to 65535, got {s.smtp_port}")
    if not _EMAIL.fullmatch(s.mail_from):
        raise ConfigError(f"setting mail_from: expected the sender's e-mail address (needed "
                          f"with smtp_host), got {s.mail_from!r}")
    if s.smtp_username and not s.smtp_password:
        raise ConfigError("setting smtp_username is set but BROKER_SMTP_PASSWORD is not")
