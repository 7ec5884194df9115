"""The `.env` table of tests/dotenv_cases.py is how the real Docker Compose reads those files: each case is read by
`docker compose config --environment` (client side only, no engine needed), and each invalid one is refused by it."""

from __future__ import annotations

import functools
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from dotenv_cases import CASES, INVALID
from tools import need

OWN = {"PATH", "HOME", "PWD", "COMPOSE_PROJECT_NAME"}


@functools.cache
def compose_present() -> bool:
    if shutil.which("docker") is None:
        return False
    return subprocess.run(["docker", "compose", "version"], capture_output=True, timeout=30).returncode == 0


def compose_reads(tmp_path: Path, text: str, environ: dict[str, str]) -> subprocess.CompletedProcess[str]:
    need("compose", compose_present(), "the Docker Compose v2 plugin is not installed (invoke testbed.up)")
    (tmp_path / "compose.yaml").write_text("services:\n  app:\n    image: busybox\n")
    (tmp_path / ".env").write_text(text)
    env = {"PATH": os.environ["PATH"], "HOME": os.environ.get("HOME", str(tmp_path)), **environ}
    return subprocess.run(["docker", "compose", "config", "--environment"], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=60)


def printed(stdout: str) -> dict[str, str]:
    """The `KEY=VALUE` lines of `--environment` (a line without `NAME=` goes on the value above: multi-line values),
    without the variables Compose and the docker CLI add themselves."""
    out: dict[str, str] = {}
    key = ""
    for line in stdout.splitlines():
        match = re.match(r"([A-Za-z_][A-Za-z0-9_]*)=(.*)", line)
        if match:
            key = match.group(1)
            out[key] = match.group(2)
        else:
            out[key] += "\n" + line
    return {k: v for k, v in out.items() if k not in OWN and not k.startswith("DOCKER_")}


@pytest.mark.parametrize(("text", "environ", "expected"), [case[1:] for case in CASES],
                         ids=[case[0] for case in CASES])
def test_compose_reads_the_table_alike(tmp_path: Path, text: str, environ: dict[str, str],
                                       expected: dict[str, str]) -> None:
    proc = compose_reads(tmp_path, text, environ)
    assert proc.returncode == 0, proc.stderr
    final = {**expected, **environ}  # the environment overrides .env, in Compose and in compose_values alike
    assert printed(proc.stdout) == final


@pytest.mark.parametrize("text", [case[1] for case in INVALID], ids=[case[0] for case in INVALID])
def test_compose_refuses_the_invalid_ones_too(tmp_path: Path, text: str) -> None:
    proc = compose_reads(tmp_path, text, {})
    assert proc.returncode != 0 and "failed to read" in proc.stderr
