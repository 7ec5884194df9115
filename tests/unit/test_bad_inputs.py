"""Bad inputs a user can type, end to end through `invoke`: each ends in exactly one `error:` line on stderr, the
right non-zero exit code, no traceback anywhere, and at once (issue 14: honest exits and no tracebacks).

Every case runs the real `invoke` on a temporary copy of this repository's shipyard.yaml. The time bound is a
sanity check only (a machine running other suites is slow); `bench/bench_bad_inputs.py` measures the real times
against the one-second target.
"""

from __future__ import annotations

import re
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from ports import free_port

ROOT = Path(__file__).resolve().parents[2]
INVOKE = str(Path(sys.executable).with_name("invoke"))
KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIE1r3hV0b1n9u6dD2aW8xPq0o2H6Kk1tq9Yc1u3Gx2zA"
NEXT_HOSTS = "(next: check the hosts' address, SSH key and known_hosts; `invoke deploy.status`)"


@dataclass
class Bed:
    """The temporary project a case runs in."""

    root: Path
    config: Path
    port: int  # an SSH port on 127.0.0.1 that nothing listens on

    @property
    def text(self) -> str:
        return self.config.read_text(encoding="utf-8")

    def line_of(self, snippet: str) -> int:
        return self.text[:self.text.index(snippet)].count("\n") + 1

    def replace(self, old: str, new: str) -> None:
        assert old in self.text, old
        self.config.write_text(self.text.replace(old, new, 1), encoding="utf-8")


@dataclass
class Case:
    id: str
    argv: list[str]
    code: int
    expected: Callable[[Bed], str]  # the stderr line: a regular expression (re.fullmatch)
    prepare: Callable[[Bed], None] = lambda bed: None
    env: dict[str, str] = field(default_factory=dict)
    stdout: str | None = None  # a regular expression stdout must contain (re.search)
    never: str | None = None  # a text no output may contain (a secret's value)


def exact(line: str) -> Callable[[Bed], str]:
    return lambda bed: re.escape(line.format(root=bed.root, port=bed.port))


def unreachable_env(known_hosts: str) -> Callable[[Bed], None]:
    """An environment `nowhere` whose one host is 127.0.0.1:<nothing listens>, with this known_hosts text."""

    def prepare(bed: Bed) -> None:
        (bed.root / "known_hosts").write_text(known_hosts)
        bed.replace("\nenvironments:\n", (
            f"\nenvironments:\n  nowhere:\n    target: vm\n    hosts: ['127.0.0.1:{bed.port}']\n"
            f"    ssh: {{known_hosts: {bed.root}/known_hosts, connect_timeout: 2}}\n"
            "    accessories: {postgres: {image: 'postgres:16', port: 5432}, redis: {image: 'redis:7', port: 6379}}\n"))

    return prepare


def laughs(bed: Bed) -> None:
    lines = ["a0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]"]
    lines += [f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 10)}]" for i in range(1, 10)]
    bed.config.write_text("\n".join(lines) + "\nproject: *a9\n")


CASES = [
    Case("config.check --file of a missing file", ["config.check", "--file", "absent.yaml"], 1,
         exact("error: {root}/absent.yaml: file not found")),
    Case("deploy --wait 1.5 (a float is a float)", ["deploy", "--wait", "1.5"], 1,
         lambda bed: re.escape("error: --env is required (next: pass one of: ") + r"[a-z0-9, -]+\)"),
    Case("deploy --wait that is not a number", ["deploy", "--env", "staging", "--wait", "soon"], 1,
         exact("error: --wait expects a number (e.g. 1.5), not 'soon'")),
    Case("deploy.releases --last 2.5 (an int flag)", ["deploy.releases", "--env", "staging", "--last", "2.5"], 1,
         exact("error: --last expects a whole number, not '2.5'")),
    Case("a shipyard.yaml that is not UTF-8", ["config.check"], 2,
         exact("error: shipyard.yaml:1 (document): not UTF-8 text (byte 8); save the file as UTF-8"),
         prepare=lambda bed: bed.config.write_bytes(b"# caf\xc3\xa9 \xe9\n" + bed.config.read_bytes())),
    Case("a known_hosts file with an @cert-authority line", ["deploy.status", "--env", "nowhere"], 1,
         exact("error: 1 of 1 host(s) could not be read (127.0.0.1:{port}): their status is unknown " + NEXT_HOSTS),
         prepare=unreachable_env(f"# pinned keys\n@cert-authority *.example.com {KEY} ca\n"),
         stdout=r"\] unreachable or not set up: \[127\.0\.0\.1:\d+\] unreachable: "),  # known_hosts was read
    Case("a known_hosts file with an @revoked line", ["deploy.releases", "--env", "nowhere"], 1,
         exact("error: 1 of 1 host(s) could not be read (127.0.0.1:{port}): their ledger is unknown " + NEXT_HOSTS),
         prepare=unreachable_env(f"web-1.example.com {KEY}\n@revoked * {KEY}\n"),
         stdout=r"known_hosts:2: a @revoked line, which Shipyard's SSH client cannot honour"),
    Case("deploy.accessories.boot --dry-run with an unreachable host",
         ["deploy.accessories.boot", "--env", "nowhere", "--dry-run"], 1,
         exact("error: 1 of 1 host(s) could not be read (127.0.0.1:{port}): their accessories are unknown "
               + NEXT_HOSTS),
         prepare=unreachable_env(""), env={"POSTGRES_PASSWORD": "pw-not-used-here"},
         stdout=r"\] cannot read this host's accessories: \[127\.0\.0\.1:\d+\] unreachable: "),
    Case("a secret shorter than four characters",
         ["deploy", "--env", "staging", "--sha", "abcd1234abcd", "--dry-run"], 1,
         lambda bed: r"error: (service \w+: )?" + re.escape(
             "secret POSTGRES_PASSWORD: its value is shorter than 4 characters, too short to be masked in output"
             " (next: use a longer value (a random one: openssl rand -hex 16))"),
         env={"POSTGRES_PASSWORD": "zq9"}, never="zq9"),  # pragma: allowlist secret
    Case("port: true", ["config.check"], 2,
         lambda bed: re.escape(f"error: shipyard.yaml:{bed.line_of('port: true')} services.api.port: must be an"
                               " integer"),
         prepare=lambda bed: bed.replace("port: 8000", "port: true")),
    Case("retain: true", ["config.check"], 2,
         lambda bed: re.escape(f"error: shipyard.yaml:{bed.line_of('retain: true')} registry.retain: must be an"
                               " integer"),
         prepare=lambda bed: bed.replace("retain: 5", "retain: true")),
    Case("health_timeout: true", ["config.check"], 2,
         lambda bed: re.escape(f"error: shipyard.yaml:{bed.line_of('health_timeout: true')} environments.staging"
                               ".deploy.health_timeout: must be a number"),
         prepare=lambda bed: bed.replace("health_timeout: 60", "health_timeout: true")),
    Case("nested YAML aliases (a billion laughs)", ["config.check"], 2,
         exact("error: shipyard.yaml:5 (document): the document expands to more than 50,000 values (nested"
               " aliases?); refusing to read it"), prepare=laughs),
    Case("an alias inside its own anchor", ["config.check"], 2,
         exact("error: shipyard.yaml:1 (document): an alias refers to the anchor it is inside of (a document that"
               " never ends); refusing to read it"),
         prepare=lambda bed: bed.config.write_text("project: &p {name: *p}\n")),
    Case("invoke --dry on a task without a dry run", ["--dry", "deploy.status", "--env", "staging"], 1,
         exact("error: Invoke's --dry: deploy.status has no dry run of its own, so nothing was run (next: run"
               " `invoke deploy.status` without --dry)")),
]


def run_case(case: Case, root: Path) -> tuple[Bed, subprocess.CompletedProcess[str], float]:
    """The case in a fresh project at `root` (a copy of this repository's shipyard.yaml): the bed, the finished
    `invoke` process and how long it took (bench/bench_bad_inputs.py times the same runs)."""
    bed = Bed(root, root / "shipyard.yaml", free_port())
    bed.config.write_bytes((ROOT / "shipyard.yaml").read_bytes())
    (root / "tasks.py").write_text("from shipyard.tasks import namespace\n\nns = namespace()\n")
    case.prepare(bed)
    env = {"PATH": "/usr/bin:/bin", "HOME": str(root), **case.env}
    started = time.monotonic()
    proc = subprocess.run([INVOKE, *case.argv], cwd=root, capture_output=True, text=True, timeout=60, env=env)
    return bed, proc, time.monotonic() - started


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_a_bad_input_is_one_line_and_an_honest_exit(case: Case, tmp_path: Path) -> None:
    bed, proc, took = run_case(case, tmp_path)
    output = proc.stdout + proc.stderr
    assert "Traceback" not in output, output
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    assert re.fullmatch(case.expected(bed), lines[0]), lines[0]
    assert proc.returncode == case.code, output
    if case.stdout is not None:
        assert re.search(case.stdout, proc.stdout), proc.stdout
    if case.never is not None:
        assert case.never not in output
    assert took < 5, f"{took:.1f}s"  # a sanity bound; the target is a second
