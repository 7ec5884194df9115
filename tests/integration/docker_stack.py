"""Helpers for the docker.* integration tests: a private copy of the reference monorepo, driven through the
real `invoke` CLI against the real engine, with the test bed's base images and free loopback ports."""

from __future__ import annotations

import bz2
import importlib
import io
import json
import lzma
import os
import posixpath
import shutil
import subprocess
import sys
import tarfile
import time
import uuid
import zipfile
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from ports import free_port

REPO = Path(__file__).resolve().parents[2]
INVOKE = str(Path(sys.executable).parent / "invoke")
# What the stack needs from the monorepo; copied so tests may edit sources without touching the work tree.
STACK_PATHS = ["shipyard.yaml", "compose.yaml", "compose.dev.yaml", ".dockerignore", ".env.example", "package.json",
               "package-lock.json", "apps/api/app", "apps/api/requirements.txt", "apps/api/pyproject.toml",
               "apps/web", "packages", "docker/api.Dockerfile", "docker/web.Dockerfile", "docker/add-user.sh",
               "docker/ca-certificates"]
IGNORE = shutil.ignore_patterns("node_modules", ".next", "__pycache__", ".test-build", "*.tsbuildinfo")


def copy_repo(dst: Path) -> Path:
    dst.mkdir(parents=True, exist_ok=True)
    for rel in STACK_PATHS:
        src = REPO / rel
        target = dst / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        if src.is_dir():
            shutil.copytree(src, target, ignore=IGNORE, dirs_exist_ok=True)
        elif src.exists():
            shutil.copy2(src, target)
    git(dst, "init", "-q")
    git(dst, "add", "-A")
    git(dst, "-c", "user.email=test@example.invalid", "-c", "user.name=test", "commit", "-qm", "reference monorepo")
    return dst


def git(root: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=root, check=True, capture_output=True, text=True).stdout


@dataclass
class Stack:
    """One Compose project of the reference stack in a temporary copy of the repository."""

    root: Path
    env: dict[str, str]
    canary: str
    ports: dict[str, int]
    outputs: list[str] = field(default_factory=list)

    @property
    def project(self) -> str:
        return self.env["COMPOSE_PROJECT_NAME"]

    def invoke_argv(self, *args: str) -> list[str]:
        return [INVOKE, "-r", str(REPO), *args]

    def invoke(self, *args: str, timeout: float = 600, check: bool = True) -> subprocess.CompletedProcess[str]:
        proc = subprocess.run(self.invoke_argv(*args), cwd=self.root, env=self.env, capture_output=True,
                              text=True, timeout=timeout, stdin=subprocess.DEVNULL)
        self.outputs += [proc.stdout, proc.stderr]
        if check and proc.returncode != 0:
            raise AssertionError(f"invoke {' '.join(args)} exited {proc.returncode}:\n{proc.stdout}\n{proc.stderr}")
        return proc

    def docker(self, *args: str, timeout: float = 300) -> str:
        return subprocess.run(["docker", *args], check=True, capture_output=True, text=True, timeout=timeout).stdout

    def url(self, service: str, path: str = "/") -> str:
        return f"http://127.0.0.1:{self.ports[service]}{path}"

    def container(self, service: str) -> str:
        return f"{self.project}-{service}-1"

    def wait_for(self, check: Callable[[], bool], timeout: float, what: str, interval: float = 0.2) -> float:
        start = time.monotonic()
        while time.monotonic() - start < timeout:
            try:
                if check():
                    return time.monotonic() - start
            except (httpx.HTTPError, subprocess.CalledProcessError):
                pass
            time.sleep(interval)
        raise AssertionError(f"{what}: not within {timeout}s")

    def healthy(self, service: str) -> bool:
        out = self.docker("inspect", "--format", "{{.State.Status}} {{if .State.Health}}{{.State.Health.Status}}"
                          "{{end}}", self.container(service)).split()
        return out[0] == "running" and (len(out) == 1 or out[1] == "healthy")


def stack_env(base_images: dict[str, str], canary: str, project: str) -> tuple[dict[str, str], dict[str, int]]:
    ports = {"web": free_port(3000), "api": free_port(8000), "postgres": free_port(), "redis": free_port()}
    env = {**os.environ, "COMPOSE_PROJECT_NAME": project, "POSTGRES_PASSWORD": canary,
           "PYTHON_IMAGE": base_images["python"], "NODE_IMAGE": base_images["node"],
           "POSTGRES_IMAGE": base_images["postgres"], "REDIS_IMAGE": base_images["redis"],
           "WEB_PORT": str(ports["web"]), "API_PORT": str(ports["api"]),
           "POSTGRES_HOST_PORT": str(ports["postgres"]), "REDIS_HOST_PORT": str(ports["redis"])}
    env.pop("SHIPYARD_CONFIG", None)
    return env, ports


def new_canary() -> str:
    return f"canary-{uuid.uuid4().hex}"


def layers_containing(image: str, needle: bytes, workdir: Path) -> list[str]:
    """`docker save` the image and look inside every file of every layer (and the config) for `needle`."""
    archive = workdir / f"{uuid.uuid4().hex}.tar"
    subprocess.run(["docker", "image", "save", "--output", str(archive), image], check=True, timeout=600)
    try:
        return scan_saved_image(archive, needle)
    finally:
        archive.unlink(missing_ok=True)


# What a layer, or a file inside one, may be compressed with; each is opened before the search.
GZIP, ZSTD, BZIP2, XZ = b"\x1f\x8b", b"\x28\xb5\x2f\xfd", b"BZh", b"\xfd7zXZ\x00"
ZIP = b"PK\x03\x04"
NESTING = 3  # archives inside archives inside a layer, at most


def scan_saved_image(archive: Path, needle: bytes) -> list[str]:
    """Where `needle` is in a `docker save` archive, legacy (`<id>/layer.tar`) or OCI (`blobs/sha256/<digest>`).

    A hit reads `<member>` (a config or manifest), `<layer>:<path>` (a file in a layer, even one deleted by a
    later layer) or `<layer>:<path>:<inner path>` (inside a compressed file or an archive in a layer). Layers
    compressed with gzip, zstd, bzip2 or xz are opened. Every layer that manifest.json names must have been read
    as a tar: a layer the scan cannot open fails it instead of passing unread.
    """
    hits: list[str] = []
    layers_read: set[str] = set()
    with tarfile.open(archive) as outer:
        members = {member.name: member for member in outer.getmembers()}
        for member in members.values():
            if not member.isfile():
                continue
            blob = _read(outer, member)
            contents = _decompress(blob, member.name, strict=True)
            if _is_tar(contents):
                layers_read.add(member.name)
                hits += _scan_tar(member.name, contents, needle, depth=1)
            elif needle in contents or needle in blob:
                hits.append(member.name)
        manifest = json.loads(_read(outer, members["manifest.json"]))
    named = {_resolve(members, layer) for entry in manifest for layer in entry["Layers"]}
    if not named:
        raise AssertionError(f"{archive}: manifest.json names no layer")
    if unread := sorted(named - layers_read):
        raise AssertionError(f"{archive}: could not read these layers as tar archives: {unread}")
    return hits


def _read(tar: tarfile.TarFile, member: tarfile.TarInfo) -> bytes:
    data = tar.extractfile(member)
    assert data is not None, member.name
    return data.read()


def _resolve(members: dict[str, tarfile.TarInfo], name: str) -> str:
    """Follow symbolic links inside the archive (the legacy layout links a repeated layer to its first copy)."""
    for _ in range(10):
        member = members.get(name)
        if member is None or not member.issym():
            return name
        name = posixpath.normpath(posixpath.join(posixpath.dirname(name), member.linkname))
    raise AssertionError(f"symbolic link loop at {name}")


def _is_tar(data: bytes) -> bool:
    if data[257:262] == b"ustar":
        return True
    # a layer with no files: end-of-archive blocks only
    return len(data) >= 1024 and len(data) % 512 == 0 and data[:1024] == bytes(1024) and not data.strip(b"\0")


def _decompress(data: bytes, name: str, *, strict: bool) -> bytes:
    """`data` uncompressed (through nested compressions), or as it is when it is not compressed.

    `strict`: a stream that cannot be decompressed is an error (a layer); otherwise it is searched as it is
    (a file in a layer that merely starts with the same bytes).
    """
    for _ in range(NESTING):
        try:
            if data.startswith(GZIP):
                data = _gunzip(data)
            elif data.startswith(ZSTD):
                data = _unzstd(data, name)
            elif data.startswith(BZIP2):
                data = bz2.decompress(data)
            elif data.startswith(XZ):
                data = lzma.decompress(data)
            else:
                return data
        except (OSError, EOFError, ValueError, lzma.LZMAError, zlib.error, subprocess.CalledProcessError):
            if strict:
                raise AssertionError(f"{name}: looks compressed but does not decompress") from None
            return data
    return data


def _gunzip(data: bytes) -> bytes:
    """Every gzip member, ignoring padding after the last one (gzip.decompress refuses it)."""
    parts = []
    while data.startswith(GZIP):
        stream = zlib.decompressobj(wbits=31)
        parts.append(stream.decompress(data))
        if not stream.eof:
            raise ValueError("truncated gzip stream")
        data = stream.unused_data
    return b"".join(parts)


def _unzstd(data: bytes, name: str) -> bytes:
    for module in ("compression.zstd", "zstandard"):  # Python 3.14's stdlib; the zstandard package
        try:
            zstd: Any = importlib.import_module(module)
        except ImportError:
            continue
        if module == "zstandard":
            return bytes(zstd.ZstdDecompressor().decompressobj().decompress(data))
        return bytes(zstd.decompress(data))
    if shutil.which("zstd"):
        return subprocess.run(["zstd", "-dcq"], input=data, capture_output=True, check=True, timeout=600).stdout
    raise AssertionError(f"{name} is zstd-compressed and nothing here decompresses zstd: install zstd "
                         "(apt-get install zstd) or the zstandard package")


def _scan_tar(prefix: str, data: bytes, needle: bytes, depth: int) -> list[str]:
    hits: list[str] = []
    with tarfile.open(fileobj=io.BytesIO(data), mode="r:") as tar:
        for member in tar:
            where = f"{prefix}:{member.name}"
            headers = [member.name, member.linkname, *(f"{k}={v}" for k, v in member.pax_headers.items())]
            if any(needle in text.encode(errors="surrogateescape") for text in headers):
                hits.append(f"{where} (name, link or header)")
            if member.isfile():
                hits += _scan_file(where, _read(tar, member), needle, depth)
    return hits


def _scan_file(where: str, data: bytes, needle: bytes, depth: int) -> list[str]:
    """A file of a layer, opened when it is compressed or an archive itself."""
    if needle in data:
        return [where]
    if depth >= NESTING:
        return []
    contents = _decompress(data, where, strict=False)
    if _is_tar(contents):
        return _scan_tar(where, contents, needle, depth + 1)
    if contents.startswith(ZIP):
        try:
            with zipfile.ZipFile(io.BytesIO(contents)) as archive:
                return [hit for info in archive.infolist() if not info.is_dir()
                        for hit in _scan_file(f"{where}:{info.filename}", archive.read(info), needle, depth + 1)]
        except (zipfile.BadZipFile, NotImplementedError, RuntimeError, ValueError):
            pass
    return [where] if needle in contents else []
