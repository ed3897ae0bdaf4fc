"""deploy/ and docs/deployment.md name only what exists: systemd accepts the unit and its
command really serves Loper, nginx accepts the example and really passes requests to Loper
with the body cap Loper has itself, every `broker` command the page shows is a real one, and
the page's backup commands make a copy that restores."""

from __future__ import annotations

import configparser
import re
import shlex
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import fields
from datetime import UTC, datetime
from pathlib import Path

import click
import pytest
import requests
from click.testing import CliRunner
from gunicorn.config import Config
from werkzeug.serving import make_server

from app import create_app
from broker import metrics_dir
from broker.cli import main
from broker.instance import initialise
from broker.registry import Registry
from broker.settings import ENV_PREFIX, Settings, load_settings
from tests.fixtures.redis_server import free_port
from tests.registry.https import certificate

ROOT = Path(__file__).resolve().parents[2]
UNIT = ROOT / "deploy" / "loper.service"
NGINX = ROOT / "deploy" / "nginx-loper.conf"
GUIDE = ROOT / "docs" / "deployment.md"
CHECKOUT, STATE, RUNTIME = "/opt/loper", "/var/lib/loper", "/run/loper"
BOUND = 60.0


def service() -> configparser.SectionProxy:
    unit = configparser.ConfigParser(interpolation=None, strict=False)
    unit.optionxform = str  # type: ignore[assignment,method-assign]
    unit.read_string(UNIT.read_text(encoding="utf-8"))
    return unit["Service"]


def exec_start() -> list[str]:
    return shlex.split(service()["ExecStart"])


def make_instance(folder: Path, **settings: object) -> Path:
    for _ in initialise(load_settings({"instance": folder, **settings}, environ={})):
        pass
    return folder


def test_systemd_accepts_the_unit(tmp_path: Path) -> None:
    """Unknown keys, bad values, a command that does not exist: systemd-analyze says so."""
    here = UNIT.read_text(encoding="utf-8").replace(CHECKOUT, str(ROOT))
    (tmp_path / "loper.service").write_text(here.replace(STATE, str(tmp_path)), encoding="utf-8")
    venv_gunicorn = ROOT / ".venv" / "bin" / "gunicorn"
    if not venv_gunicorn.exists():  # a checkout tested with another interpreter
        pytest.fail(f"{venv_gunicorn} is missing: run `make test`, which creates .venv")
    done = subprocess.run(["systemd-analyze", "verify", str(tmp_path / "loper.service")],
                          capture_output=True, text=True, timeout=BOUND, check=False)
    assert done.returncode == 0 and not done.stderr.strip(), done.stderr


def test_the_unit_names_real_settings_and_options() -> None:
    known = {ENV_PREFIX + f.name.upper() for f in fields(Settings)} | {
        "LOPER_WORKERS", "LOPER_THREADS", metrics_dir.ENV}
    for line in UNIT.read_text(encoding="utf-8").splitlines():
        match = re.match(r"#?\s*Environment=(\w+)=", line)
        if match:
            assert match.group(1) in known, line
    argv = exec_start()
    assert argv[0] == f"{service()['WorkingDirectory']}/.venv/bin/gunicorn"
    args = Config().parser().parse_args(argv[1:])  # an unknown option exits here
    assert args.config == f"{CHECKOUT}/config/gunicorn.conf.py"
    assert (ROOT / "config" / "gunicorn.conf.py").exists()
    assert args.bind == ["127.0.0.1:8000"]  # loopback only: nginx is the way in
    assert args.args == ["app:create_app()"]


def test_the_units_command_serves_loper(tmp_path: Path) -> None:
    """ExecStart as written (another port, this checkout), in the unit's environment."""
    instance = make_instance(tmp_path / "instance")
    port = free_port()
    argv = [arg.replace(CHECKOUT, str(ROOT)).replace("127.0.0.1:8000", f"127.0.0.1:{port}")
            for arg in exec_start()]
    argv[0] = str(Path(sys.executable).with_name("gunicorn"))
    unit_env = dict(value.split("=", 1) for value in service().get("Environment", "").split())
    env = {**unit_env, "PATH": "/usr/bin:/bin", "BROKER_INSTANCE": str(instance),
           "BROKER_BASE_URL": f"http://127.0.0.1:{port}", "LOPER_WORKERS": "1",
           metrics_dir.ENV: unit_env[metrics_dir.ENV].replace(RUNTIME, str(tmp_path / "run"))}
    process = subprocess.Popen(argv, cwd=ROOT, env=env, stdout=subprocess.DEVNULL,
                               stderr=subprocess.PIPE, start_new_session=True)
    try:
        assert _ready(f"http://127.0.0.1:{port}/readyz", process), process.stderr
        metrics = requests.get(f"http://127.0.0.1:{port}/metrics", timeout=10)
        assert metrics.status_code == 200
        assert 'loper_step_seconds_count{step="health.readyz"}' in metrics.text
        assert list((tmp_path / "run" / "metrics").glob("*.db"))  # the workers' files
    finally:
        process.send_signal(signal.SIGTERM)
        process.communicate(timeout=BOUND)


def _ready(url: str, process: subprocess.Popen[bytes]) -> bool:
    deadline = time.monotonic() + BOUND
    while time.monotonic() < deadline and process.poll() is None:
        try:
            if requests.get(url, timeout=10).status_code == 200:
                return True
        except (requests.ConnectionError, requests.Timeout):
            time.sleep(0.1)
    return False


def directives(name: str) -> list[str]:
    return re.findall(rf"^\s*{name}\s+([^;]+);", NGINX.read_text(encoding="utf-8"), re.M)


def test_nginx_caps_bodies_as_loper_does_and_forwards_what_loper_trusts(tmp_path: Path) -> None:
    [cap] = directives("client_max_body_size")
    units = {"k": 1024, "m": 1024 ** 2}
    size = int(cap[:-1]) * units[cap[-1].lower()] if cap[-1].lower() in units else int(cap)
    app = create_app({"instance": make_instance(tmp_path / "instance")})
    assert size == app.config["MAX_CONTENT_LENGTH"]
    headers = dict(h.split(None, 1) for h in directives("proxy_set_header"))
    assert headers["X-Forwarded-For"] == "$proxy_add_x_forwarded_for"  # appends the client
    assert {"X-Forwarded-Proto", "X-Forwarded-Host"} <= set(headers)
    argv = exec_start()
    assert set(directives("proxy_pass")) == {f"http://{argv[argv.index('--bind') + 1]}"}


@contextmanager
def serving(app: object) -> Iterator[int]:
    server = make_server("127.0.0.1", 0, app, threaded=True)  # type: ignore[arg-type]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server.server_port
    finally:
        server.shutdown()
        thread.join(timeout=5)


def local_nginx(folder: Path, loper_port: int, https_port: int) -> Path:
    """The example, as it is, on free loopback ports with a test certificate, in a main
    config of its own (no system files, no daemon, no root)."""
    cert, key = certificate(folder)
    site = NGINX.read_text(encoding="utf-8")
    for old, new in (("/etc/letsencrypt/live/loper.example.nl/fullchain.pem", str(cert)),
                     ("/etc/letsencrypt/live/loper.example.nl/privkey.pem", str(key)),
                     ("listen 443 ssl;", f"listen 127.0.0.1:{https_port} ssl;"),
                     ("listen 80;", f"listen 127.0.0.1:{free_port()};"),
                     ("127.0.0.1:8000", f"127.0.0.1:{loper_port}")):
        assert old in site, old
        site = site.replace(old, new)
    site = re.sub(r"^\s*listen \[::\].*$", "", site, flags=re.M)  # no IPv6 needed here
    (folder / "site.conf").write_text(site, encoding="utf-8")
    main_conf = folder / "nginx.conf"
    main_conf.write_text(f"""daemon off;
pid {folder}/nginx.pid;
error_log stderr;
events {{}}
http {{
    access_log off;
    client_body_temp_path {folder}/body;
    proxy_temp_path {folder}/proxy;
    include {folder}/site.conf;
}}
""", encoding="utf-8")
    return main_conf


def test_a_request_passes_the_nginx_example_to_loper(tmp_path: Path) -> None:
    nginx = shutil.which("nginx") or "/usr/sbin/nginx"
    if not Path(nginx).exists():
        pytest.fail("nginx is missing: run .ci/system-deps test")
    app = create_app({"instance": make_instance(tmp_path / "instance"), "trusted_proxies": 1,
                      "base_url": "https://loper.example.nl"})
    with serving(app) as loper_port:
        https_port = free_port()
        conf = local_nginx(tmp_path, loper_port, https_port)
        checked = subprocess.run([nginx, "-t", "-p", str(tmp_path), "-c", str(conf)],
                                 capture_output=True, text=True, timeout=BOUND, check=False)
        assert checked.returncode == 0, checked.stderr
        process = subprocess.Popen([nginx, "-p", str(tmp_path), "-c", str(conf)],
                                   stderr=subprocess.PIPE, start_new_session=True)
        try:
            base, ca = f"https://127.0.0.1:{https_port}", str(tmp_path / "tls.crt")
            assert _up(base, ca, process), process.stderr
            page = requests.get(f"{base}/metrics", verify=ca, timeout=10)
            assert page.status_code == 200 and "loper_logins_total" in page.text
            too_big = requests.post(f"{base}/saml/sp/acs", data=b"x" * (2 * 1024 ** 2),
                                    verify=ca, timeout=10)
            assert too_big.status_code == 413 and "nginx" in too_big.text
            # Loper sees https through the proxy: its cookies carry Secure
            picker = requests.get(f"{base}/me/login", verify=ca, timeout=10,
                                  allow_redirects=False)
            assert picker.status_code < 500
            cookies = picker.headers.get("Set-Cookie", "")
            assert not cookies or "Secure" in cookies
        finally:
            process.send_signal(signal.SIGQUIT)
            process.communicate(timeout=BOUND)


def _up(base: str, ca: str, process: subprocess.Popen[bytes]) -> bool:
    deadline = time.monotonic() + BOUND
    while time.monotonic() < deadline and process.poll() is None:
        try:
            return requests.get(f"{base}/healthz", verify=ca, timeout=10).status_code == 200
        except (requests.ConnectionError, requests.Timeout):
            time.sleep(0.05)
    return False


def _command(words: list[str]) -> click.Command:
    """The click command the words name, with its options checked; fails on anything else."""
    command: click.Command = main
    rest = list(words)
    while isinstance(command, click.Group) and rest and not rest[0].startswith("-"):
        sub = command.get_command(click.Context(command), rest.pop(0))
        assert sub is not None, f"no such command: broker {' '.join(words)}"
        command = sub
    options = {opt for param in command.params for opt in getattr(param, "opts", [])}
    for word in rest:
        if word.startswith("--"):
            assert word.split("=")[0] in options, f"broker {' '.join(words)}: no {word}"
    return command


def test_every_broker_command_in_the_guide_exists() -> None:
    text = GUIDE.read_text(encoding="utf-8")
    found = re.findall(r"(?:\.venv/bin/|`)broker ((?:[a-z][\w-]*|--[\w-]+|[^\s`]+)(?: [^\s`#]+)*)",
                       text)
    assert len(found) >= 8, found
    for words in found:
        _command([w for w in words.split() if not w.startswith("#")])


def guide_block(after: str) -> str:
    """The first ```sh block of the guide after the words `after`."""
    text = GUIDE.read_text(encoding="utf-8")
    match = re.search(re.escape(after) + r".*?```sh\n(.*?)```", text, re.S)
    assert match, after
    return match.group(1)


def test_the_guides_backup_works_on_a_fresh_instance(tmp_path: Path) -> None:
    """Before the first login there is no ledger head yet: the backup still goes through."""
    instance = make_instance(tmp_path / "instance")
    backups = tmp_path / "backups"
    script = guide_block("copy the ledger head first").replace(
        "/var/lib/loper/instance", str(instance)).replace("/var/backups/loper", str(backups))
    subprocess.run(["bash", "-euo", "pipefail", "-c", script], check=True, timeout=BOUND)
    assert (backups / "registry.sqlite").exists()
    assert not (backups / "registry.sqlite.ledger-head").exists()


def test_the_guides_backup_restores_the_registry_and_the_keys(tmp_path: Path) -> None:
    """The backup commands of the guide, as written (other folders), on a registry with a
    ledger; the restore puts back the same pupils' pseudonyms and a ledger that verifies."""
    instance = make_instance(tmp_path / "instance")
    registry = Registry(load_settings({"instance": instance}, environ={}).registry_url)
    try:
        for n in range(3):
            registry.ledger().append(datetime.now(UTC), "regenboog", "rekenapp", f"v1-{n}",
                                     ["role"], "saml")
    finally:
        registry.close()
    backups = tmp_path / "backups"
    script = guide_block("copy the ledger head first").replace(
        "/var/lib/loper/instance", str(instance)).replace("/var/backups/loper", str(backups))
    subprocess.run(["bash", "-euo", "pipefail", "-c", script], check=True, timeout=BOUND)
    keys = {path.name: path.read_bytes() for path in (instance / "keys").iterdir()}
    shutil.rmtree(instance)  # the disk is lost
    instance.mkdir()
    restore = guide_block("Restore on a stopped Loper")
    assert "tar -xzf /var/backups/loper/keys-and-settings.tar.gz" in restore
    assert "cp /var/backups/loper/registry.sqlite* ." in restore
    subprocess.run(["tar", "-xzf", str(backups / "keys-and-settings.tar.gz")], cwd=instance,
                   check=True, timeout=BOUND)
    for name in ("registry.sqlite", "registry.sqlite.ledger-head"):
        shutil.copy(backups / name, instance / name)
    runner = CliRunner()
    for command in (["init"], ["ledger", "verify"]):
        assert f"broker {' '.join(command)}" in restore
        result = runner.invoke(main, ["--instance", str(instance), *command])
        assert result.exit_code == 0, result.output
    assert "ledger ok: 3 rows verified" in result.output, result.output
    assert {path.name: path.read_bytes() for path in (instance / "keys").iterdir()} == keys
