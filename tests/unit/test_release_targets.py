"""One target interface: compose, VM and Kubernetes environments implement the same verbs with the same keyword
arguments; `release_target` picks the implementation by the environment's kind; the top-level tasks only parse
their flags and call a verb of the target they are given (no kind dispatch), and the deploy.*, k8s.* and docker.*
names call the same target methods."""

from __future__ import annotations

import ast
import inspect
from pathlib import Path
from typing import Any

import pytest
from invoke.context import Context

from shipyard.config import load
from shipyard.errors import ShipyardError
from shipyard.targets import base
from shipyard.targets.base import ReleaseTarget, release_target
from shipyard.targets.compose_verbs import ComposeVerbs
from shipyard.targets.kubernetes_verbs import KubernetesVerbs
from shipyard.targets.vm.verbs import VmVerbs

ROOT = Path(__file__).resolve().parents[2]
TASKS = ROOT / "src" / "shipyard" / "tasks"
VERBS = ("plan", "deploy", "rollback", "status", "history", "logs", "exec")
IMPLEMENTATIONS = {"compose": (ComposeVerbs, "dev"), "vm": (VmVerbs, "staging"),
                   "kubernetes": (KubernetesVerbs, "k8s-staging")}


@pytest.fixture(scope="module")
def config() -> Any:
    return load(ROOT / "shipyard.yaml")


def mismatches(cls: type) -> list[str]:
    """The verbs of `cls` that are missing or whose signature differs from the protocol's (names, kinds,
    defaults and annotations of every parameter, and the return annotation)."""
    out = []
    for verb in VERBS:
        method = getattr(cls, verb, None)
        if method is None:
            out.append(f"{verb}: missing")
        elif inspect.signature(method) != inspect.signature(getattr(ReleaseTarget, verb)):
            out.append(f"{verb}: {inspect.signature(method)}")
    return out


def test_the_protocol_has_the_verbs_and_keyword_only_arguments() -> None:
    for verb in VERBS:
        params = list(inspect.signature(getattr(ReleaseTarget, verb)).parameters.values())
        assert params[0].name == "self" and params[1:], verb
        assert all(p.kind is inspect.Parameter.KEYWORD_ONLY and p.default is not inspect.Parameter.empty
                   for p in params[1:]), verb  # the same keywords for every target, every one optional


@pytest.mark.parametrize("kind", sorted(IMPLEMENTATIONS))
def test_each_target_implements_every_verb_with_the_protocols_signature(kind: str, config: Any) -> None:
    cls, env = IMPLEMENTATIONS[kind]
    assert mismatches(cls) == []
    target = cls(config, env)
    assert isinstance(target, ReleaseTarget)
    assert target.kind == kind == config.environment(env).target and target.env_name == env


class Lacking:
    """Not a target: no exec, and a logs whose keyword is named otherwise."""

    kind, env_name = "vm", "staging"

    def plan(self, **kw: Any) -> None: ...
    def deploy(self, **kw: Any) -> None: ...
    def rollback(self, **kw: Any) -> None: ...
    def status(self, *, as_json: bool = False) -> None: ...
    def history(self, *, as_json: bool = False, last: int | None = None) -> None: ...
    def logs(self, *, services: str | None = None) -> None: ...


def test_the_checks_can_fail() -> None:
    assert not isinstance(Lacking(), ReleaseTarget)
    found = mismatches(Lacking)
    assert [line.split(":")[0] for line in found] == ["plan", "deploy", "rollback", "logs", "exec"]
    assert "exec: missing" in found


@pytest.mark.parametrize(("env", "cls"), [("dev", ComposeVerbs), ("staging", VmVerbs), ("production", VmVerbs),
                                          ("k8s-staging", KubernetesVerbs), ("k8s-dev-helm", KubernetesVerbs)])
def test_release_target_picks_the_implementation_by_kind(env: str, cls: type, config: Any) -> None:
    target = release_target(config, env)
    assert type(target) is cls and target.env_name == env


def test_every_environment_gets_the_target_of_its_kind(config: Any) -> None:
    for env in config.project.environments:
        assert release_target(config, env).kind == config.environment(env).target


@pytest.mark.parametrize(("env", "message"), [(None, "--env is required"), ("", "--env is required"),
                                              ("nowhere", "unknown environment 'nowhere'")])
def test_release_target_refuses_a_missing_or_unknown_environment(env: str | None, message: str,
                                                                 config: Any) -> None:
    with pytest.raises(ShipyardError, match=message):
        release_target(config, env)


def test_a_verb_a_target_lacks_is_one_line_with_what_to_run(config: Any) -> None:
    for verb, call in [("deploy", lambda t: t.deploy()), ("rollback", lambda t: t.rollback()),
                       ("releases", lambda t: t.history())]:
        with pytest.raises(ShipyardError) as info:
            call(ComposeVerbs(config, "dev"))
        assert info.value.message == f"`{verb}` does not apply to 'dev' (target: compose)" and info.value.hint
        assert "\n" not in str(info.value)
    with pytest.raises(ShipyardError, match=r"^`exec --host` does not apply to 'k8s-staging' \(target: kubernetes\)"):
        KubernetesVerbs(config, "k8s-staging").exec(service="api", command="true", host="h1")  # pods, not hosts
    with pytest.raises(ShipyardError, match=r"^`deploy --force` does not apply to 'k8s-staging'"):
        KubernetesVerbs(config, "k8s-staging").plan(force=True)  # the dry run of a deploy: the same refusal


# --- the tasks: flags in, one verb called --------------------------------------------------------------------------

class Recorder(ReleaseTarget):
    """A target that records the verbs called on it."""

    kind = "recorded"

    def __init__(self, env_name: str) -> None:
        self.env_name = env_name
        self.calls: list[tuple[str, dict[str, Any]]] = []

    def deploy(self, **kw: Any) -> None:  # type: ignore[override]
        self.calls.append(("deploy", kw))

    def rollback(self, **kw: Any) -> None:  # type: ignore[override]
        self.calls.append(("rollback", kw))

    def status(self, **kw: Any) -> None:  # type: ignore[override]
        self.calls.append(("status", kw))

    def history(self, **kw: Any) -> None:  # type: ignore[override]
        self.calls.append(("history", kw))

    def logs(self, **kw: Any) -> None:  # type: ignore[override]
        self.calls.append(("logs", kw))

    def exec(self, **kw: Any) -> int:  # type: ignore[override]
        self.calls.append(("exec", kw))
        return 0


@pytest.fixture
def recorded(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> list[tuple[str | None, Recorder]]:
    """The factory replaced: every target a task asks for is a Recorder (with the environment it was asked for)."""
    (tmp_path / "shipyard.yaml").write_bytes((ROOT / "shipyard.yaml").read_bytes())
    monkeypatch.setenv("SHIPYARD_CONFIG", str(tmp_path / "shipyard.yaml"))
    monkeypatch.delenv("SHIPYARD_ENV", raising=False)
    made: list[tuple[str | None, Recorder]] = []

    def factory(config: Any, env: str | None) -> Recorder:
        made.append((env, Recorder(env or "")))
        return made[-1][1]

    monkeypatch.setattr(base, "release_target", factory)
    return made


def top(name: str) -> Any:
    from importlib import import_module

    return getattr(import_module(f"shipyard.tasks.{name}"), "exec_" if name == "exec" else name)


@pytest.mark.parametrize(("task", "flags", "verb", "expected"), [
    ("status", {"json": True}, "status", {"as_json": True}),
    ("releases", {}, "history", {"as_json": False}),
    ("logs", {"service": "api", "tail": 5, "follow": True, "since": "10m"}, "logs",
     {"service": "api", "tail": 5, "follow": True, "since": "10m"}),
    ("rollback", {"sha": "abc123", "yes": True, "wait": 2.0}, "rollback",
     {"sha": "abc123", "yes": True, "dry_run": False, "wait": 2.0, "as_json": False}),
    ("deploy", {"sha": "abc123", "dry_run": True, "json": True, "build_arg": ["A=1", "B"], "platform": "linux/arm64"},
     "deploy", {"sha": "abc123", "yes": False, "dry_run": True, "as_json": True, "wait": 0.0, "force": False,
                "build_args": {"A": "1"}, "allow_dirty": False, "platform": "linux/arm64"}),
    ("exec", {"service": "api", "command": "true", "host": "h1"}, "exec",
     {"service": "api", "command": "true", "host": "h1", "live": False, "yes": False}),
])
def test_a_top_level_task_calls_one_verb_of_the_target_it_is_given(
        recorded: list[tuple[str | None, Recorder]], task: str, flags: dict[str, Any], verb: str,
        expected: dict[str, Any]) -> None:
    for env in ("dev", "staging", "k8s-staging"):  # the task does not look at the kind: the factory does
        top(task)(Context(), env=env, **flags)
        asked, target = recorded[-1]
        assert asked == env and target.calls == [(verb, expected)]


def test_rollback_takes_the_environment_from_shipyard_env(recorded: list[tuple[str | None, Recorder]],
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SHIPYARD_ENV", "staging")
    top("rollback")(Context())
    assert recorded[-1][0] == "staging"


@pytest.mark.parametrize("module", ["status", "releases", "logs", "rollback", "exec", "deploy"])
def test_the_top_level_tasks_hold_no_kind_dispatch(module: str) -> None:
    """Their bodies name no kind of target and no other collection; they ask the factory."""
    source = inspect.getsource(top(module).body)
    body = source.split('"""', 2)[-1]  # after the docstring
    assert "release_target(" in body
    for word in ("kind", "compose", "kubernetes", "k8s", "vm", "docker", "droplets", "shipyard.tasks"):
        assert word not in body, (module, word)


def private_task_imports(path: Path) -> list[str]:
    """Imports of another task module (anything but shipyard.tasks._base) or of an underscore name from one."""
    out = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("shipyard.tasks"):
            names = [alias.name for alias in node.names]
            if node.module != "shipyard.tasks._base" or any(n.startswith("_") for n in names):
                out.append(f"{path.name}: from {node.module} import {', '.join(names)}")
        elif isinstance(node, ast.Import):
            out += [f"{path.name}: import {a.name}" for a in node.names if a.name.startswith("shipyard.tasks")]
    return out


def test_no_task_module_imports_another_task_module(tmp_path: Path) -> None:
    modules = [p for p in sorted(TASKS.glob("*.py")) if p.name not in ("__init__.py", "_base.py")]
    assert len(modules) > 10 and [line for p in modules for line in private_task_imports(p)] == []
    broken = tmp_path / "broken.py"  # the check proves it can fail
    broken.write_text("def f():\n    from shipyard.tasks.deploy import _prune\n    from shipyard.tasks import k8s\n"
                      "    from shipyard.tasks._base import _configure_logging\n")
    assert len(private_task_imports(broken)) == 3


# --- the aliases: deploy.*, k8s.* and docker.* call the same target methods -----------------------------------------

@pytest.mark.parametrize(("module", "task", "flags", "cls", "verb", "expected"), [
    ("deploy", "staging", {"sha": "abc123", "force": True}, VmVerbs, "deploy",
     {"sha": "abc123", "yes": False, "dry_run": False, "as_json": False, "wait": 0.0, "force": True,
      "build_args": {}, "allow_dirty": False, "platform": None}),
    ("deploy", "production", {"yes": True}, VmVerbs, "deploy",
     {"sha": None, "yes": True, "dry_run": False, "as_json": False, "wait": 0.0, "force": False, "build_args": {},
      "allow_dirty": False, "platform": None}),
    ("deploy", "status", {"env": "staging", "json": True}, VmVerbs, "status", {"as_json": True}),
    ("deploy", "releases", {"env": "staging", "last": 3}, VmVerbs, "history", {"as_json": False, "last": 3}),
    ("deploy", "logs", {"env": "staging", "service": "api", "host": "h1"}, VmVerbs, "logs",
     {"service": "api", "host": "h1", "tail": 100, "follow": False, "since": None}),
    ("deploy", "exec_", {"env": "staging", "service": "api", "command": "true", "live": True}, VmVerbs, "exec",
     {"service": "api", "command": "true", "host": None, "live": True, "yes": False}),
    ("k8s", "deploy", {"env": "k8s-staging", "sha": "abc123"}, KubernetesVerbs, "deploy",
     {"sha": "abc123", "yes": False, "dry_run": False, "build_args": {}, "allow_dirty": False, "platform": None,
      "as_json": False}),
    ("k8s", "rollback", {"env": "k8s-staging", "dry_run": True}, KubernetesVerbs, "rollback",
     {"sha": None, "yes": False, "dry_run": True, "as_json": False}),
    ("k8s", "status", {"env": "k8s-staging"}, KubernetesVerbs, "status", {"as_json": False}),
    ("k8s", "releases", {"env": "k8s-staging", "json": True}, KubernetesVerbs, "history", {"as_json": True}),
    ("k8s", "logs", {"env": "k8s-staging"}, KubernetesVerbs, "logs",
     {"service": "api", "tail": 100, "follow": False, "since": None}),
    ("docker", "ps", {}, ComposeVerbs, "status", {}),
    ("docker", "logs", {"service": "web"}, ComposeVerbs, "logs", {"service": "web", "follow": False, "tail": 200}),
])
def test_the_aliases_call_the_same_target_methods(module: str, task: str, flags: dict[str, Any], cls: type,
                                                  verb: str, expected: dict[str, Any], tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    from importlib import import_module

    (tmp_path / "shipyard.yaml").write_bytes((ROOT / "shipyard.yaml").read_bytes())
    monkeypatch.setenv("SHIPYARD_CONFIG", str(tmp_path / "shipyard.yaml"))
    calls: list[tuple[str, str, dict[str, Any]]] = []

    def record(self: Any, **kw: Any) -> int:
        calls.append((type(self).__name__, self.env_name, kw))
        return 0

    monkeypatch.setattr(cls, verb, record)
    getattr(import_module(f"shipyard.tasks.{module}"), task)(Context(), **flags)
    env = flags.get("env", {"staging": "staging", "production": "production"}.get(task, "dev"))
    assert calls == [(cls.__name__, env, expected)]


@pytest.mark.parametrize(("terminal", "flags"), [(True, []), (False, ["-T"])])
def test_exec_on_compose_runs_in_the_services_container(terminal: bool, flags: list[str], config: Any,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    """`exec --env dev` is `docker compose exec [-T] SERVICE sh -c COMMAND` (-T when stdin is not a terminal),
    attached to this terminal; its exit code is the verb's."""
    import sys

    from shipyard.release import Release
    from shipyard.run import LocalRunner

    ran: list[list[str]] = []

    def interactive(self: Any, argv: list[str], **kw: Any) -> int:
        ran.append(list(argv))
        return 3

    monkeypatch.setattr(LocalRunner, "interactive", interactive)
    monkeypatch.setattr(LocalRunner, "run", lambda self, argv, **kw: pytest.fail(f"ran {argv}"))
    monkeypatch.setattr(sys.stdin, "isatty", lambda: terminal, raising=False)
    monkeypatch.setattr("shipyard.release.current", lambda *a, **kw: Release(sha="0123456789abcdef"))
    code = ComposeVerbs(config, "dev").exec(service="api", command="python -V")
    assert code == 3 and len(ran) == 1 and ran[0][:2] == ["docker", "compose"]
    assert ran[0][ran[0].index("exec"):] == ["exec", *flags, "api", "sh", "-c", "python -V"]


# --- `invoke exec`: the new top-level verb, through the real CLI ---------------------------------------------------

@pytest.mark.parametrize(("args", "line"), [
    (["exec", "--env", "dev"], "error: --service and --command are required (next: invoke exec --env dev"),
    (["exec", "--env", "dev", "-s", "api", "--command", "true", "--host", "h1"],
     "error: `exec --host` does not apply to 'dev' (target: compose)"),
    (["exec", "--env", "k8s-staging", "-s", "api", "--command", "true", "--live"],
     "error: `exec --live` does not apply to 'k8s-staging' (target: kubernetes) (next: drop --live: the command"
     " runs in a running pod the service's selector picks)"),
    (["exec", "--env", "staging", "-s", "api"], "error: --service and --command are required"),
    (["exec", "--service", "api"], "error: --env is required (next: pass one of: dev, local, staging, production,"),
])
def test_invoke_exec_refusals_are_one_line(args: list[str], line: str, tmp_path: Path) -> None:
    import os
    import subprocess
    import sys

    (tmp_path / "shipyard.yaml").write_bytes((ROOT / "shipyard.yaml").read_bytes())
    (tmp_path / "tasks.py").write_text("from shipyard.tasks import namespace\n\nns = namespace()\n")
    env = {k: v for k, v in os.environ.items() if not k.startswith("SHIPYARD_")}
    proc = subprocess.run([str(Path(sys.executable).parent / "invoke"), *args], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=60, check=False)
    lines = proc.stderr.strip().splitlines()
    assert proc.returncode == 1 and len(lines) == 1 and lines[0].startswith(line), proc.stderr
