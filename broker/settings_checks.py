"""The checks of two groups of settings: what Loper's SAML metadata presents (names, links,
logo, contacts, validity) and the mail server. Part of validating the settings once, at
start-up (broker/settings.py), with messages that say what to fix.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from broker.email_address import is_email
from broker.errors import ConfigError
from broker.outbound.policy import is_loopback

if TYPE_CHECKING:
    from broker.settings import Settings


def _check_url(name: str, value: str, *, data_image: bool = False) -> None:
    if data_image and value.startswith("data:image/"):
        return
    parts = urlsplit(value)
    if parts.scheme != "https" and not (parts.scheme == "http" and is_loopback(
            parts.hostname or "")) or not parts.hostname or any(c.isspace() for c in value):
        raise ConfigError(f"setting {name}: expected an https URL"
                          + (" or a data:image/ URL" if data_image else "") + f", got {value!r}")


def positive(numbers: Mapping[str, int]) -> None:
    """ConfigError for the first setting (name -> its value) that is not above zero."""
    for name, number in numbers.items():
        if number <= 0:
            raise ConfigError(f"setting {name}: must be positive")


def check_presentation(s: Settings) -> None:
    texts = {"metadata_display_name_nl": s.metadata_display_name_nl,
             "metadata_display_name_en": s.metadata_display_name_en,
             "metadata_description_nl": s.metadata_description_nl,
             "metadata_description_en": s.metadata_description_en}
    for name, text in texts.items():
        if not text.strip() or len(text) > 400:
            raise ConfigError(f"setting {name}: expected a text of 1 to 400 characters")
    urls = {"metadata_information_url": s.metadata_information_url,
            "metadata_privacy_url": s.metadata_privacy_url,
            "metadata_logo_url": s.metadata_logo_url}
    for name, url in urls.items():
        if url:
            _check_url(name, url, data_image=name == "metadata_logo_url")
    for name, email in {"contact_technical_email": s.contact_technical_email,
                        "contact_support_email": s.contact_support_email}.items():
        if email and not is_email(email):
            raise ConfigError(f"setting {name}: expected an e-mail address, got {email!r}")
    positive({"metadata_logo_width": s.metadata_logo_width,
              "metadata_logo_height": s.metadata_logo_height,
              "metadata_valid_days": s.metadata_valid_days,
              "metadata_cache_hours": s.metadata_cache_hours})
    key = Path(s.metadata_signing_key)
    if s.metadata_signing_key and (key.is_absolute() or ".." in key.parts):
        raise ConfigError("setting metadata_signing_key: expected a path inside the instance "
                          f"folder without .key/.crt (e.g. keys/metadata-signing), got {key}")
    if s.metadata_cache_hours > s.metadata_valid_days * 24:
        raise ConfigError("setting metadata_cache_hours: must not exceed metadata_valid_days "
                          "(a copy kept that long would expire while in use)")


def check_mail(s: Settings) -> None:
    positive({"invitation_ttl": s.invitation_ttl, "password_reset_ttl": s.password_reset_ttl})
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
    if not is_email(s.mail_from):
        raise ConfigError(f"setting mail_from: expected the sender's e-mail address (needed "
                          f"with smtp_host), got {s.mail_from!r}")
    if s.smtp_username and not s.smtp_password:
        raise ConfigError("setting smtp_username is set but BROKER_SMTP_PASSWORD is not")
