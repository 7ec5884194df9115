"""Helpers for the docker.* integration tests: a private copy of the reference monorepo, driven through the
real `invoke` CLI against the real engine, with the test bed's base images and free loopback ports."""

from __future__ import annotations

import io
import os
import shutil
import subprocess
import sys
import tarfile
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

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
    hits: list[str] = []
    try:
        with tarfile.open(archive) as outer:
            for member in outer.getmembers():
                if not member.isfile():
                    continue
                data = outer.extractfile(member)
                assert data is not None
                blob = data.read()
                if member.name.endswith("layer.tar"):
                    hits += [f"{member.name}:{name}" for name in _scan_layer(blob, needle)]
                elif needle in blob:
                    hits.append(member.name)
    finally:
        archive.unlink(missing_ok=True)
    return hits


def _scan_layer(blob: bytes, needle: bytes) -> Iterator[str]:
    if needle not in blob:  # the tar stream holds every file uncompressed: one fast check covers the layer
        return
    with tarfile.open(fileobj=io.BytesIO(blob)) as layer:
        for member in layer.getmembers():
            if member.isfile():
                data = layer.extractfile(member)
                if data is not None and needle in data.read():
                    yield member.name
