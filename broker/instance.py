"""`broker init`: create an instance folder, idempotently, never replacing a key."""

from __future__ import annotations

from collections.abc import Iterator

from broker import key_checks, keys
from broker.errors import ConfigError
from broker.registry import Registry
from broker.registry.admins import Admins
from broker.sealed import Sealer
from broker.settings import SETTINGS_FILE, Settings, redacted_url

SHOWN_OWNERS = 5
"""At most this many admins are named when a missing sealing key costs their second factor."""


def _make_dirs(settings: Settings) -> None:
    try:
        settings.instance.mkdir(parents=True, exist_ok=True)
        settings.keys_dir.mkdir(mode=0o700, exist_ok=True)
        probe = settings.instance / ".write-test"
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as exc:
        raise ConfigError(f"cannot write the instance folder {settings.instance}: "
                          f"{exc.strerror or exc}; choose another with --instance or "
                          "BROKER_INSTANCE, or fix its permissions") from exc


def _guard_pseudonym_key(settings: Settings, registry: Registry) -> None:
    if registry.exists() and not (settings.keys_dir / keys.PSEUDONYM_FILE).exists():
        raise ConfigError(
            f"the registry {settings.registry_url} exists but the pseudonym key "
            f"{settings.keys_dir / keys.PSEUDONYM_FILE} is missing. A new key would silently "
            "change every pupil's pseudonym at every supplier: restore the key from backup. "
            "Refusing to create one.")


def guard_seal_key(settings: Settings, registry: Registry) -> None:
    """ConfigError when the TOTP sealing key is missing but the registry holds secrets sealed
    with it: a new key would not open them, and every admin with a second factor would be
    locked out without a word. (RegistryUnavailable when the registry cannot be asked.)"""
    path = settings.keys_dir / keys.SEAL_FILE
    if path.exists() or not registry.exists():
        return
    owners = Admins(registry).sealed_totp_owners()
    if not owners:
        return
    named = ", ".join(owners[:SHOWN_OWNERS]) + (
        f" and {len(owners) - SHOWN_OWNERS} more" if len(owners) > SHOWN_OWNERS else "")
    raise ConfigError(
        f"the TOTP sealing key {path} is missing, but the registry "
        f"{redacted_url(settings.registry_url)} holds the second factor of {len(owners)} "
        f"admin(s) sealed with it ({named}). A new key would not open them: restore the key "
        "from backup. Without a backup, reset each one's second factor with `broker admin "
        "password EMAIL --clear-totp` (they enrol again), then run `broker init`. Refusing to "
        "create a new key.")


def initialise(settings: Settings) -> Iterator[str]:
    _make_dirs(settings)
    key_checks.check_keys(settings.keys_dir, missing_ok=True)  # a corrupt key: stop, change nothing
    settings_file = settings.instance / SETTINGS_FILE
    if not settings_file.exists():
        settings_file.write_text(f'base_url = "{settings.base_url}"\n', encoding="utf-8")
        yield f"wrote {settings_file}"
    registry = Registry(settings.registry_url)
    try:
        _guard_pseudonym_key(settings, registry)
        registry.upgrade()  # first: the sealed secrets are asked for in the current schema
        guard_seal_key(settings, registry)
        created = {
            "SAML signing key": keys.ensure_saml_keypair(settings.keys_dir, settings.host),
            "OIDC signing keys": keys.ensure_oidc_keys(settings.keys_dir),
            "pseudonym key": keys.ensure_pseudonym_keys(settings.keys_dir),
            "cookie secret": keys.ensure_cookie_secret(settings.keys_dir),
            "TOTP sealing key": keys.ensure_seal_key(settings.keys_dir),
        }
        sealer = Sealer(keys.seal_key(settings.keys_dir))
        sealed = Admins(registry, sealer).seal_plain_totp_secrets()
    finally:
        registry.close()
    for what, new in created.items():
        yield f"{'created' if new else 'kept'} {what}"
    if sealed:
        yield f"sealed {sealed} TOTP secret(s) stored in plain text by an older version"
    yield f"registry ready: {settings.registry_url}"
