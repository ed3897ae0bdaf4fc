"""TLS for `--tls gunicorn|nginx`: a self-signed key made at run time, and nginx in front.

`gunicorn`: gunicorn terminates TLS itself (--certfile/--keyfile); every connection closes
after its answer (sync workers, or gthread with keepalive 0 as config/gunicorn.conf.py has it),
so a browser pays a TLS handshake per request.
`nginx`: nginx terminates TLS with keep-alive to the browser (as deploy/nginx-loper.conf, with
its session cache) and passes plain HTTP to gunicorn on loopback; Loper believes one proxy.
nginx runs as this user, on free loopback ports, with a private configuration.
"""

from __future__ import annotations

import datetime
import ipaddress
import shutil
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

from bench.procs import HOST, Usage, children, stop_group, usage

MODES = ("none", "gunicorn", "nginx")


@dataclass(frozen=True)
class TlsFiles:
    key: Path
    cert: Path
    """Self-signed for 127.0.0.1; the bench's client trusts exactly this certificate."""


def self_signed(folder: Path) -> TlsFiles:
    """An RSA-2048 key and a certificate for 127.0.0.1 (what a public CA would issue)."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, HOST)])
    now = datetime.datetime.now(datetime.UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=5))
            .not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName(
                [x509.IPAddress(ipaddress.ip_address(HOST))]), critical=False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256()))
    folder.mkdir(parents=True, exist_ok=True)
    files = TlsFiles(folder / "tls.key", folder / "tls.crt")
    files.key.write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                            serialization.PrivateFormat.PKCS8,
                                            serialization.NoEncryption()))
    files.key.chmod(0o600)
    files.cert.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    return files


NGINX_CONF = """\
worker_processes 1;
daemon off;
pid {folder}/nginx.pid;
error_log {folder}/nginx-error.log warn;
events {{ worker_connections 1024; }}
http {{
    access_log off;
    client_body_temp_path {folder}/body;
    proxy_temp_path {folder}/proxy;
    fastcgi_temp_path {folder}/fastcgi;
    uwsgi_temp_path {folder}/uwsgi;
    scgi_temp_path {folder}/scgi;
    keepalive_timeout 65s;
    server {{
        listen {host}:{port} ssl;
        ssl_certificate {cert};
        ssl_certificate_key {key};
        ssl_protocols TLSv1.2 TLSv1.3;
        ssl_session_cache shared:bench_tls:10m;
        ssl_session_timeout 1d;
        client_max_body_size 1m;
        location / {{
            proxy_pass http://{host}:{upstream};
            proxy_set_header Host $http_host;
            proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
            proxy_set_header X-Forwarded-Proto $scheme;
            proxy_set_header X-Forwarded-Host $http_host;
            proxy_read_timeout 35s;
        }}
    }}
}}
"""


class Nginx:
    """nginx terminating TLS on `port`, passing plain HTTP to gunicorn on `upstream`."""

    def __init__(self, folder: Path, port: int, upstream: int, tls: TlsFiles) -> None:
        self.folder = folder
        self.port = port
        self.process: subprocess.Popen[bytes] | None = None
        folder.mkdir(parents=True, exist_ok=True)
        self.conf = folder / "nginx.conf"
        self.conf.write_text(NGINX_CONF.format(folder=folder, host=HOST, port=port,
                                               upstream=upstream, cert=tls.cert, key=tls.key),
                             encoding="utf-8")

    def start(self) -> None:
        binary = shutil.which("nginx") or "/usr/sbin/nginx"
        if not Path(binary).exists():
            raise RuntimeError("nginx is not installed: .ci/system-deps test installs it")
        self.process = subprocess.Popen(
            [binary, "-p", str(self.folder), "-c", str(self.conf)], stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL, stderr=open(self.folder / "nginx.out", "ab"),
            start_new_session=True)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError("nginx exited: "
                                   + (self.folder / "nginx.out").read_text(errors="replace"))
            if children(self.process.pid):
                return
            time.sleep(0.05)
        raise RuntimeError("nginx started no worker")

    def worker_usage(self) -> dict[int, Usage]:
        """nginx's own CPU: its master's and its worker's (TLS is done by the worker)."""
        assert self.process is not None
        found = {}
        for pid in [self.process.pid, *children(self.process.pid)]:
            try:
                found[pid] = usage(pid)
            except FileNotFoundError:
                continue
        return found

    def stop(self) -> None:
        if self.process is not None:
            process, self.process = self.process, None
            stop_group(process)


@contextmanager
def nginx(folder: Path, port: int, upstream: int, tls: TlsFiles) -> Iterator[Nginx]:
    server = Nginx(folder, port, upstream, tls)
    try:
        server.start()
        yield server
    finally:
        server.stop()
