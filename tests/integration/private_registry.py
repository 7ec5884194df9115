"""Real private registries on free 127.0.0.1 ports for tests: Debian's docker-registry (distribution 2.8) with
`http.tls` + `auth: htpasswd`, or with `auth: token` and a small real token server (HTTP, basic credentials ->
a JWT signed by a key whose certificate the registry trusts through `rootcertbundle`)."""

from __future__ import annotations

import base64
import contextlib
import hashlib
import io
import json
import shutil
import socket
import subprocess
import tarfile
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlparse

import httpx

from ports import free_port

CERTS_D = Path("/etc/docker/certs.d")


@dataclass
class Served:
    address: str
    user: str
    password: str
    ca: Path | None
    log: Path
    token_requests: list[dict[str, Any]] = field(default_factory=list)


def _wait_port(port: int, proc: subprocess.Popen[bytes], log: Path, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"the registry exited: {log.read_text()[-2000:]}")
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    raise RuntimeError(f"the registry did not listen on {port} within {timeout}s: {log.read_text()[-2000:]}")


@contextlib.contextmanager
def serve_registry(config_text: str, folder: Path, port: int) -> Iterator[Path]:
    config = folder / "config.yml"
    config.write_text(config_text)
    log = folder / "registry.log"
    binary = shutil.which("docker-registry") or "/usr/bin/docker-registry"
    with log.open("wb") as out:
        proc = subprocess.Popen([binary, "serve", str(config)], stdout=out, stderr=subprocess.STDOUT)
    try:
        _wait_port(port, proc, log)
        yield log
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@contextlib.contextmanager
def engine_trusts(address: str, ca: Path) -> Iterator[None]:
    """The local Docker engine trusts the registry's CA, as a host does (/etc/docker/certs.d/<host:port>/ca.crt).
    Not root: left out (the engine treats 127.0.0.0/8 as an insecure registry, so pushes work without it)."""
    folder = CERTS_D / address
    try:
        folder.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(ca, folder / "ca.crt")
    except PermissionError:
        yield
        return
    try:
        yield
    finally:
        shutil.rmtree(folder, ignore_errors=True)


@contextlib.contextmanager
def tls_htpasswd_registry(folder: Path, user: str, password: str) -> Iterator[Served]:
    """`http.tls` with a CA made here, `auth: htpasswd` with one bcrypt entry."""
    from shipyard.sandbox import tls
    from shipyard.testbed.registry import htpasswd_entry, render_config

    port = free_port()
    address = f"127.0.0.1:{port}"
    files = tls.ensure(f"pytest-{uuid.uuid4().hex[:6]}", home=folder)
    htpasswd = folder / "htpasswd"
    htpasswd.write_text(htpasswd_entry(user, password))
    text = render_config(address, folder / "storage", tls=(files.cert, files.key), htpasswd=htpasswd)
    with engine_trusts(address, files.ca), serve_registry(text, folder, port) as log:
        yield Served(address, user, password, files.ca, log)


# --- the token flow ------------------------------------------------------------------------------------------
def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


class TokenIssuer:
    """Signs registry tokens (ES256) with a self-signed certificate the registry lists in `rootcertbundle`."""

    def __init__(self, folder: Path, service: str, issuer: str) -> None:
        import datetime

        from cryptography import x509
        from cryptography.hazmat.primitives import hashes, serialization
        from cryptography.hazmat.primitives.asymmetric import ec
        from cryptography.x509.oid import NameOID

        self.service, self.issuer = service, issuer
        self.key = ec.generate_private_key(ec.SECP256R1())
        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "pytest token issuer")])
        now = datetime.datetime.now(datetime.UTC)
        cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(self.key.public_key())
                .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(minutes=5))
                .not_valid_after(now + datetime.timedelta(days=1)).sign(self.key, hashes.SHA256()))
        self.bundle = folder / "token-root.pem"
        self.bundle.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
        self.x5c = base64.b64encode(cert.public_bytes(serialization.Encoding.DER)).decode()

    def token(self, subject: str, scopes: list[str]) -> str:
        from cryptography.hazmat.primitives import hashes
        from cryptography.hazmat.primitives.asymmetric import ec
        from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature

        access = []
        for scope in scopes:
            kind, _, rest = scope.partition(":")
            name, _, actions = rest.rpartition(":")
            access.append({"type": kind, "name": name, "actions": [a for a in actions.split(",") if a]})
        now = int(time.time())
        header = {"typ": "JWT", "alg": "ES256", "x5c": [self.x5c]}
        claims = {"iss": self.issuer, "sub": subject, "aud": self.service, "exp": now + 300, "nbf": now - 10,
                  "iat": now, "jti": uuid.uuid4().hex, "access": access}
        signing_input = f"{_b64(json.dumps(header).encode())}.{_b64(json.dumps(claims).encode())}"
        der = self.key.sign(signing_input.encode(), ec.ECDSA(hashes.SHA256()))
        r, s = decode_dss_signature(der)
        return f"{signing_input}.{_b64(r.to_bytes(32, 'big') + s.to_bytes(32, 'big'))}"


@contextlib.contextmanager
def token_server(issuer: TokenIssuer, user: str, password: str, seen: list[dict[str, Any]]) -> Iterator[str]:
    """A real HTTP token endpoint on 127.0.0.1: basic credentials in, `{"token": ...}` out (401 otherwise)."""
    expected = "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            query = parse_qs(urlparse(self.path).query)
            authorised = self.headers.get("Authorization") == expected
            seen.append({"service": query.get("service", [""])[0], "scope": query.get("scope", []),
                         "authorised": authorised})
            if not authorised:
                self.send_response(401)
                self.send_header("Content-Type", "application/json")
                self.end_headers()
                self.wfile.write(b'{"errors":[{"code":"UNAUTHORIZED"}]}')
                return
            body = json.dumps({"token": issuer.token(user, query.get("scope", [])), "expires_in": 300}).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/auth"
    finally:
        server.shutdown()
        server.server_close()


@contextlib.contextmanager
def token_registry(folder: Path, user: str, password: str) -> Iterator[Served]:
    """`auth: token` (plain HTTP on loopback), tokens from a real token server."""
    from shipyard.testbed.registry import TokenAuth, render_config

    port = free_port()
    address = f"127.0.0.1:{port}"
    issuer = TokenIssuer(folder, service="pytest-registry", issuer="pytest-issuer")
    seen: list[dict[str, Any]] = []
    with token_server(issuer, user, password, seen) as realm:
        auth = TokenAuth(realm=realm, service=issuer.service, issuer=issuer.issuer, rootcertbundle=issuer.bundle)
        text = render_config(address, folder / "storage", token=auth)
        with serve_registry(text, folder, port) as log:
            yield Served(address, user, password, None, log, token_requests=seen)


def tiny_image(ref: str, marker: str) -> None:
    """A one-file image made with `docker import` (no base image needed)."""
    data = io.BytesIO()
    with tarfile.open(fileobj=data, mode="w") as tar:
        payload = f"shipyard registry test {marker}\n".encode()
        info = tarfile.TarInfo("hello.txt")
        info.size = len(payload)
        tar.addfile(info, io.BytesIO(payload))
    subprocess.run(["docker", "import", "-", ref], input=data.getvalue(), check=True, capture_output=True,
                   timeout=120)


def push_manifest(address: str, repository: str, tag: str) -> None:
    """A minimal image (a config blob, no layers) under `repository:tag`, through the registry's HTTP API; its
    config names the tag, so two tags are two digests."""
    config = json.dumps({"architecture": "amd64", "os": "linux", "rootfs": {"type": "layers", "diff_ids": []},
                         "config": {"Labels": {"tag": tag}}}).encode()
    digest = "sha256:" + hashlib.sha256(config).hexdigest()
    base = f"http://{address}/v2/{repository}"
    with httpx.Client(timeout=10) as http:
        upload = http.post(f"{base}/blobs/uploads/")
        upload.raise_for_status()
        location = upload.headers["location"]
        http.put(f"{location}{'&' if '?' in location else '?'}digest={digest}", content=config,
                 headers={"Content-Type": "application/octet-stream"}).raise_for_status()
        manifest = {"schemaVersion": 2, "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
                    "config": {"mediaType": "application/vnd.docker.container.image.v1+json", "size": len(config),
                               "digest": digest}, "layers": []}
        http.put(f"{base}/manifests/{tag}", content=json.dumps(manifest).encode(),
                 headers={"Content-Type": manifest["mediaType"]}).raise_for_status()
