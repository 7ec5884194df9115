"""The compose target and docker.build, by the exact commands they would run (dry-run runner, real config)."""

from __future__ import annotations

import dataclasses
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from shipyard.config import load
from shipyard.errors import ShipyardError
from shipyard.release import Release
from shipyard.run import DryRunRunner
from shipyard.targets.compose import ComposeTarget, build_args, build_release, select_services

REPO = Path(__file__).resolve().parents[2]
FILES = ["--file", "compose.yaml", "--file", "compose.dev.yaml"]


@pytest.fixture()
def root(tmp_path: Path) -> Path:
    for name in ("shipyard.yaml", "compose.yaml", "compose.dev.yaml"):
        shutil.copy(REPO / name, tmp_path / name)
    (tmp_path / "docker").mkdir()
    for name in ("api.Dockerfile", "web.Dockerfile"):
        shutil.copy(REPO / "docker" / name, tmp_path / "docker" / name)
    return tmp_path


def target(root: Path) -> tuple[ComposeTarget, DryRunRunner]:
    runner = DryRunRunner(printer=lambda _line: None)
    return ComposeTarget.from_config(load(root / "shipyard.yaml"), "dev", runner, say=lambda _line: None), runner


def test_up_builds_then_starts_and_waits_for_health(root: Path) -> None:
    compose, runner = target(root)
    compose.up(timeout=90)
    assert runner.commands == [
        ["docker", "compose", *FILES, "build", "api"],
        ["docker", "compose", *FILES, "build", "web"],
        ["docker", "compose", *FILES, "up", "--detach", "--wait", "--wait-timeout", "90"],
    ]


def test_down_restart_logs_clean(root: Path) -> None:
    compose, runner = target(root)
    compose.down(volumes=True)
    compose.restart(["api"])
    compose.logs(["web"], tail=50)
    compose.clean(project_label="shipyard-demo")
    assert runner.commands == [
        ["docker", "compose", *FILES, "down", "--volumes", "--remove-orphans"],
        ["docker", "compose", *FILES, "restart", "api"],
        ["docker", "compose", *FILES, "logs", "--no-color", "--tail", "50", "web"],
        ["docker", "compose", *FILES, "down", "--rmi", "local", "--remove-orphans"],
        ["docker", "image", "prune", "--force", "--filter", "label=dev.shipyard.project=shipyard-demo"],
    ]


def test_shell_prefers_bash(root: Path) -> None:
    compose, runner = target(root)
    assert compose.shell("api") == 0
    assert runner.commands[0][-5:] == ["exec", "api", "sh", "-c",
                                       "command -v bash >/dev/null && exec bash || exec sh"]


def test_only_compose_environments(root: Path) -> None:
    with pytest.raises(ShipyardError, match=r"environment 'staging' has target vm; docker\.\* drives"):
        ComposeTarget.from_config(load(root / "shipyard.yaml"), "staging", DryRunRunner())


def test_missing_compose_file_is_named(root: Path) -> None:
    (root / "compose.dev.yaml").unlink()
    with pytest.raises(ShipyardError, match=r"compose file compose\.dev\.yaml not found"):
        target(root)


def test_unset_secrets_get_a_placeholder_only_when_not_needed(root: Path) -> None:
    compose, _ = target(root)
    compose.allow_missing_secrets({})
    assert compose.env["POSTGRES_PASSWORD"].startswith("unset")
    compose, _ = target(root)
    (root / ".env").write_text("POSTGRES_PASSWORD=from-dotenv\n")
    compose.allow_missing_secrets({})
    assert "POSTGRES_PASSWORD" not in compose.env  # Compose reads .env itself


def test_select_services() -> None:
    services = load(REPO / "shipyard.yaml").services()
    assert select_services(services, []) == ["api", "web"]
    assert select_services(services, ["web", "web"]) == ["web"]
    with pytest.raises(ShipyardError, match=r"unknown service\(s\): worker \(services: api, web\)"):
        select_services(services, ["worker"])


def test_release_build_command(root: Path) -> None:
    config = load(root / "shipyard.yaml")
    release = Release(sha="0123456789abcdef0123456789abcdef01234567")
    runner = DryRunRunner(printer=lambda _line: None)
    (root / ".env").write_text("NODE_IMAGE=from-dotenv/node:1\nPOSTGRES_PASSWORD=never-a-build-arg\n")
    build_release(root, config.services(), ["api", "web"], release,
                  lambda name: f"127.0.0.1:5000/shipyard/{name}:{release.tag}", runner,
                  environ={"PYTHON_IMAGE": "mirror/python:3.12", "GIT_SHA": "ignored"}, project="shipyard-demo",
                  say=lambda _line: None)
    api, web = runner.commands
    assert api[:8] == ["docker", "build", "--force-rm", "-f", "docker/api.Dockerfile", "--platform", "linux/amd64",
                       "-t"]  # build.platform's default: what droplets run
    assert api[8] == "127.0.0.1:5000/shipyard/api:0123456789ab"
    assert "PYTHON_IMAGE=mirror/python:3.12" in api
    assert f"GIT_SHA={release.tag}" in api  # the version the app reports, as on every target
    assert "org.opencontainers.image.revision=" + release.sha in api
    assert "dev.shipyard.service=api" in api
    assert api[-1] == "."
    assert "NODE_IMAGE=from-dotenv/node:1" in web
    assert not any("never-a-build-arg" in part for part in api + web)


def test_build_args_only_pass_declared_args(root: Path) -> None:
    service = load(root / "shipyard.yaml").services()["api"]
    args = build_args(root, service, Release(sha="a" * 40), {"NODE_IMAGE": "x", "PYTHON_IMAGE": "y"})
    assert set(args) == {"PYTHON_IMAGE", "GIT_SHA", "BUILD_DATE"}


def test_build_args_precedence_shipyard_yaml_then_environment(root: Path) -> None:
    """build.args are the lowest layer: the environment/.env win, undeclared names never reach the build."""
    service = load(root / "shipyard.yaml").services()["api"]
    defaults = {"PYTHON_IMAGE": "from-config/python:3", "NOT_AN_ARG": "x"}
    args = build_args(root, service, Release(sha="a" * 40), {}, defaults)
    assert args["PYTHON_IMAGE"] == "from-config/python:3" and "NOT_AN_ARG" not in args
    args = build_args(root, service, Release(sha="a" * 40), {"PYTHON_IMAGE": "from-env/python:3"}, defaults)
    assert args["PYTHON_IMAGE"] == "from-env/python:3"


def test_cli_dry_run_changes_nothing_and_never_asks() -> None:
    invoke = str(Path(sys.executable).parent / "invoke")
    proc = subprocess.run([invoke, "docker.down", "--volumes", "--dry-run"], cwd=REPO, capture_output=True,
                          text=True, timeout=60, stdin=subprocess.DEVNULL)
    assert proc.returncode == 0, proc.stderr
    assert "would run: docker compose --file compose.yaml --file compose.dev.yaml down --volumes" in proc.stdout


def test_env_example_documents_every_compose_variable() -> None:
    import re

    used = set()
    for name in ("compose.yaml", "compose.dev.yaml"):
        used |= set(re.findall(r"\$\{([A-Z_][A-Z0-9_]*)", (REPO / name).read_text()))
    documented = set(re.findall(r"^#?\s*([A-Z_][A-Z0-9_]*)=", (REPO / ".env.example").read_text(), re.MULTILINE))
    assert used, "no variables found"
    assert used <= documented, f"undocumented in .env.example: {sorted(used - documented)}"
    for line in (REPO / ".env.example").read_text().splitlines():  # placeholders only
        if line.startswith("POSTGRES_PASSWORD="):
            assert line == "POSTGRES_PASSWORD=change-me-locally"


class ScriptedLogs(DryRunRunner):
    """Answers `compose logs` with the next scripted text, as a crash-looping container's log grows."""

    def __init__(self, answers: list[str]) -> None:
        super().__init__(printer=lambda _line: None)
        self.answers = answers

    def run(self, argv, **kwargs):  # type: ignore[no-untyped-def]
        result = super().run(argv, **kwargs)
        return dataclasses.replace(result, stdout=self.answers.pop(0)) if "logs" in argv else result


def test_last_log_lines_are_read_until_two_reads_agree(root: Path) -> None:
    cut = "Traceback (most recent call last):\n  File x\n"  # the next crash, caught while it is being written
    whole = cut + "ValueError: Unknown level: 'BOGUS'\n"
    probe = ScriptedLogs([cut, whole, whole, "never read"])
    compose = ComposeTarget.from_config(load(root / "shipyard.yaml"), "dev", DryRunRunner(printer=lambda _l: None),
                                        probe=probe, say=lambda _line: None)
    assert compose._settled_logs("api", 40, pause=0) == whole
    assert probe.answers == ["never read"]
    assert probe.commands[0] == ["docker", "compose", *FILES, "logs", "--no-color", "--tail", "40", "api"]


def test_compose_up_shows_a_live_panel_on_a_terminal(root: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """On a terminal, a service on its way (created, starting) sits in the live panel; a healthy one is printed
    as a finished step. Elsewhere the same changes are plain lines."""
    from shipyard.facts.compose import ServiceState
    from shipyard.targets import progress

    shown: list[tuple[str, str, str]] = []

    class Panel:
        def __init__(self, **_options: object) -> None:
            pass

        def begin(self, host: str, phase: str, what: str) -> None:
            shown.append(("begin", host, what))

        def step(self, host: str, phase: str, what: str, seconds: float) -> None:
            shown.append(("step", host, what))

        def close(self) -> None:
            shown.append(("close", "", ""))

    answers = [[ServiceState("api", "p-api-1", "running", "starting", 0, "Up", "i")],
               [ServiceState("api", "p-api-1", "running", "healthy", 0, "Up", "i")]]
    lines: list[str] = []
    monkeypatch.setattr(progress, "Progress", Panel)
    compose = ComposeTarget.from_config(load(root / "shipyard.yaml"), "dev", DryRunRunner(printer=lambda _l: None),
                                        say=lines.append)
    compose.runner = type("Real", (), {"dry_run": False})()  # type: ignore[assignment]
    monkeypatch.setattr(compose, "status", lambda: answers.pop(0) if answers else [])
    with compose.watch_conditions(["api"], time.monotonic(), every=0.01, live=True):
        deadline = time.monotonic() + 5
        while answers and time.monotonic() < deadline:
            time.sleep(0.01)
        time.sleep(0.05)
    assert shown == [("begin", "api", "starting"), ("step", "api", "healthy"), ("close", "", "")]
    assert lines == []  # the panel replaces the plain lines on a terminal
