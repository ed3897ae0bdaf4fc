"""`broker init`: create an instance folder, idempotently, never replacing a key."""

from __future__ import annotations

from collections.abc import Iterator

from broker import keys
from broker.errors import ConfigError
from broker.registry import Registry
from broker.registry.admins import Admins
from broker.sealed import Sealer
from broker.settings import SETTINGS_FILE, Settings


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


def initialise(settings: Settings) -> Iterator[str]:
    _make_dirs(settings)
    settings_file = settings.instance / SETTINGS_FILE
    if not settings_file.exists():
        settings_file.write_text(f'base_url = "{settings.base_url}"\n', encoding="utf-8")
        yield f"wrote {settings_file}"
    registry = Registry(settings.registry_url)
    try:
        _guard_pseudonym_key(settings, registry)
        created = {
            "SAML signing key": keys.ensure_saml_keypair(settings.keys_dir, settings.host),
            "OIDC signing keys": keys.ensure_oidc_keys(settings.keys_dir),
            "pseudonym key": keys.ensure_pseudonym_keys(settings.keys_dir),
            "cookie secret": keys.ensure_cookie_secret(settings.keys_dir),
            "TOTP sealing key": keys.ensure_seal_key(settings.keys_dir),
        }
        registry.upgrade()
        sealer = Sealer(keys.seal_key(settings.keys_dir))
        sealed = Admins(registry, sealer).seal_plain_totp_secrets()
    finally:
        registry.close()
    for what, new in created.items():
        yield f"{'created' if new else 'kept'} {what}"
    if sealed:
        yield f"sealed {sealed} TOTP secret(s) stored in plain text by an older version"
    yield f"registry ready: {settings.registry_url}"
