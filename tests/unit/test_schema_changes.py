"""Migrations made safe to roll back: a release command reports a schema change with `shipyard: schema-changed`
(facts/release_command.py), the deploy marks its ledger entries, and a rollback across a marked release warns and
refuses without --yes (plans/rollback.py, plans/approval.py, tasks/rollback.py). The reference api's `migrate`
prints the marker only when it applied a migration. A secret canary in the command's output is never printed."""

from __future__ import annotations

import importlib
import io
import json
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType, SimpleNamespace
from typing import Any

import pytest
from invoke.context import Context
from invoke.exceptions import Exit
from rich.console import Console

from shipyard.commands.haproxy import Backend
from shipyard.commands.layout import HostLayout
from shipyard.errors import ShipyardError
from shipyard.facts import ledger
from shipyard.facts.ledger import Entry
from shipyard.facts.release_command import SCHEMA_CHANGED, schema_changed
from shipyard.plans import approval, rollback
from shipyard.plans import bluegreen as bg
from shipyard.report.vm import PlanInfo, entry_doc, plan_doc, plan_lines, releases_lines
from shipyard.run.base import Result
from shipyard.targets.progress import Progress
from shipyard.targets.vm import admin as vm_admin
from shipyard.targets.vm import bluegreen as vm_bluegreen
from shipyard.targets.vm.host import StepFailed

ROOT = Path(__file__).resolve().parents[2]
CANARY = "canary-schema-3c7a-never-print-me"  # pragma: allowlist secret
A, B, C, D = "aaaaaaaaaaaa", "bbbbbbbbbbbb", "cccccccccccc", "dddddddddddd"


# --- the marker ----------------------------------------------------------------------------------------------------

@pytest.mark.parametrize(("output", "changed"), [
    ("shipyard: schema-changed\n", True),
    ("shipyard: schema-changed", True),  # no final newline
    ("  shipyard: schema-changed  \r\n", True),  # spaces and CRLF around it
    ("INFO connecting\nmigrate: applied 0003_add_title\nshipyard: schema-changed\nINFO done\n", True),
    ('{"level": "info", "msg": "applied"}\nshipyard: schema-changed\n{"level": "info", "msg": "bye"}\n', True),
    ("", False),
    ("migrate: schema up to date\n", False),
    ("echo shipyard: schema-changed\n", False),  # only a line of its own counts
    ("shipyard: schema-changed-not\n", False),
    ("Shipyard: Schema-Changed\n", False),  # exact, so that prose cannot trip it
    ("shipyard: schema-unchanged\n", False),
])
def test_the_marker_is_one_exact_line_anywhere_in_the_output(output: str, changed: bool) -> None:
    assert schema_changed(output) is changed


def test_the_verdict_is_a_bool_and_never_the_output() -> None:
    verdict = schema_changed(f"POSTGRES_PASSWORD={CANARY}\n{SCHEMA_CHANGED}\n")
    assert verdict is True and CANARY not in repr(verdict)


# --- the ledger ----------------------------------------------------------------------------------------------------

def test_the_mark_round_trips_and_is_left_out_when_false() -> None:
    marked = Entry(at="2027-01-15T08:00:00Z", action="deploy", who="w", outcome="ok", host="h1", release=B,
                   schema_changed=True)
    plain = Entry(at="2027-01-15T09:00:00Z", action="deploy", who="w", outcome="ok", host="h1", release=C)
    assert json.loads(marked.to_json())["schema_changed"] is True
    assert "schema_changed" not in plain.to_json()  # lines without a schema change read exactly as before
    assert marked.to_json().count("\n") == 0  # still one line for the atomic append
    assert ledger.parse_ledger(marked.to_json() + "\n" + plain.to_json() + "\n") == [marked, plain]


def test_old_ledger_lines_still_parse_unmarked() -> None:
    old = ('{"action":"deploy","at":"2026-01-01T10:00:00Z","host":"h1","outcome":"ok","release":"aaaaaaaaaaaa",'
           '"who":"ana@ci"}\n'
           '{"action":"deploy","at":"2026-01-01T11:00:00Z","host":"h1","outcome":"ok","release":"bbbbbbbbbbbb",'
           '"schema_changed":"yes","who":"ana@ci"}\n')  # not a JSON true: not a mark
    entries = ledger.parse_ledger(old)
    assert [e.release for e in entries] == [A, B] and not any(e.schema_changed for e in entries)


# --- which rollback crosses a schema change ------------------------------------------------------------------------

def entry(release: str, *, changed: bool = False, action: str = "deploy", outcome: str = "ok") -> Entry:
    return Entry(at="t", action=action, who="w", outcome=outcome, host="h", release=release, schema_changed=changed)


@pytest.mark.parametrize(("entries", "target", "crossed"), [
    ([entry(A), entry(B, changed=True)], A, [B]),  # the live release changed the schema
    ([entry(A), entry(B, changed=True), entry(C)], A, [B]),  # an earlier one did, the live one did not
    ([entry(A), entry(B), entry(C, changed=True)], B, [C]),
    ([entry(A), entry(B, changed=True), entry(C, changed=True)], A, [B, C]),
    ([entry(A), entry(B, changed=True), entry(C)], B, []),  # the target's own change: its code was written for it
    ([entry(A), entry(B), entry(C)], A, []),  # nothing reported a change
    ([entry(A, changed=True), entry(B)], A, []),  # the change is older than the target's last run
    # a deploy that stopped after its migrations ran changed the schema all the same
    ([entry(A), entry(B), entry(C, changed=True, outcome="aborted")], A, [C]),
    # A ran again after B's change (an earlier rollback, confirmed): B's change is no longer news to A
    ([entry(A), entry(B, changed=True), entry(A, action="rollback"), entry(C)], A, []),
    # going forward again to B after rolling back to A crosses C's change only
    ([entry(A), entry(B, changed=True), entry(C, changed=True), entry(A, action="rollback")], B, [C]),
    ([entry(A), entry(B, changed=True), entry(B, changed=True)], A, [B]),  # named once
])
def test_the_schema_changes_a_rollback_crosses(entries: list[Entry], target: str, crossed: list[str]) -> None:
    assert rollback.schema_changes(entries, target) == crossed


def test_the_warning_names_the_releases_and_the_rule() -> None:
    assert rollback.schema_warning(A, []) is None
    one = rollback.schema_warning(A, [B])
    assert one == (f"release {B} changed the database schema after {A} last ran: {A}'s code must work with the"
                   " new schema (expand/contract, docs/DEPLOY.md)")
    two = rollback.schema_warning(A, [B, C])
    assert two is not None and two.startswith(f"releases {B}, {C} changed the database schema")


# --- the one approval policy: the schema change is one more reason for --yes ---------------------------------------

GATED = SimpleNamespace(require_approval=True)
OPEN = SimpleNamespace(require_approval=False)
RISK = rollback.schema_warning(A, [B]) or ""


@pytest.mark.parametrize(("env", "yes", "dry_run", "environ", "refused"), [
    (OPEN, False, False, {}, True),  # not only on gated environments
    (GATED, False, False, {}, True),
    (GATED, False, False, {"SHIPYARD_APPROVED": "1"}, True),  # CI's marker approves the environment, not this
    (OPEN, True, False, {}, False),
    (GATED, True, False, {}, False),
    (OPEN, False, True, {}, False),  # a dry run changes nothing: it shows the warning instead
    (GATED, False, True, {}, False),
])
def test_a_rollback_across_a_schema_change_needs_yes(env: object, yes: bool, dry_run: bool,
                                                     environ: dict[str, str], refused: bool) -> None:
    if refused:
        with pytest.raises(ShipyardError) as info:
            approval.check("staging", env, "rollback", yes=yes, dry_run=dry_run, environ=environ, risks=[RISK])
        assert str(info.value).startswith(f"rollback of 'staging' refused: release {B} changed the database schema")
        assert "\n" not in str(info.value) and "re-run with --yes" in (info.value.hint or "")
    else:
        approval.check("staging", env, "rollback", yes=yes, dry_run=dry_run, environ=environ, risks=[RISK])


def test_without_risks_the_policy_is_unchanged() -> None:
    approval.check("staging", OPEN, "rollback", yes=False, dry_run=False, environ={}, risks=[])
    with pytest.raises(ShipyardError, match="requires approval"):
        approval.check("prod", GATED, "rollback", yes=False, dry_run=False, environ={}, risks=[])


# --- the rollback task: warns, refuses without --yes (nothing runs), shows the warning in a dry run ----------------

@pytest.fixture
def staging(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, list[Any]]:
    """`rollback --env staging` in-process on this repository's shipyard.yaml, with the hosts' side stood in for:
    the ledgers say that going back to A crosses B's schema change; deploys and dry-run plans are recorded."""
    (tmp_path / "shipyard.yaml").write_bytes((ROOT / "shipyard.yaml").read_bytes())
    monkeypatch.setenv("SHIPYARD_CONFIG", str(tmp_path / "shipyard.yaml"))
    monkeypatch.delenv("SHIPYARD_APPROVED", raising=False)
    calls: dict[str, list[Any]] = {"deploy": [], "plan": [], "crossed": [[B]]}
    request = vm_bluegreen.Request(action="rollback", release=A, images={"api": f"reg/api:{A}"}, hooks=False)

    def plan_rollback(target: Any, sha: str | None, *, wait_lock: float = 0.0,
                      check_images: bool = True) -> vm_admin.Rollback:
        return vm_admin.Rollback(request, tuple(calls["crossed"][-1]))

    monkeypatch.setattr(vm_admin, "plan_rollback", plan_rollback)
    monkeypatch.setattr(vm_admin, "show_plan", lambda target, req, **kw: calls["plan"].append((req, kw)))
    monkeypatch.setattr(vm_bluegreen, "deploy", lambda target, req, progress: calls["deploy"].append(req))
    monkeypatch.setattr("shipyard.targets.vm.env.env_files", lambda *a: ({"api": f"PW={CANARY}\n"}, {}))
    return calls


def rollback_task(**flags: Any) -> None:
    from shipyard.tasks.rollback import rollback as task

    task(Context(), env="staging", **flags)


def test_the_task_refuses_without_yes_and_changes_nothing(staging: dict[str, list[Any]],
                                                         capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(Exit) as info:
        rollback_task()
    message = str(info.value.message)
    assert info.value.code == 1 and "\n" not in message
    assert message.startswith(f"error: rollback of 'staging' refused: release {B} changed the database schema"
                              f" after {A} last ran: {A}'s code must work with the new schema")
    assert "re-run with --yes" in message
    assert staging["deploy"] == [] and capsys.readouterr().out == ""


def test_the_ci_marker_alone_does_not_confirm_it(staging: dict[str, list[Any]],
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SHIPYARD_APPROVED", "1")
    with pytest.raises(Exit):
        rollback_task()
    assert staging["deploy"] == []


def test_with_yes_it_warns_then_rolls_back(staging: dict[str, list[Any]], capsys: pytest.CaptureFixture[str]) -> None:
    rollback_task(yes=True)
    out = capsys.readouterr().out
    assert out.splitlines()[0] == f"warning: {rollback.schema_warning(A, [B])} (confirmed with --yes)"
    assert [r.release for r in staging["deploy"]] == [A] and CANARY not in out


def test_a_dry_run_shows_the_warning_and_refuses_nothing(staging: dict[str, list[Any]]) -> None:
    rollback_task(dry_run=True)
    ((request, kwargs),) = staging["plan"]
    assert request.release == A and kwargs["warnings"] == [rollback.schema_warning(A, [B])]
    assert staging["deploy"] == []


def test_without_a_schema_change_nothing_is_asked(staging: dict[str, list[Any]],
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    staging["crossed"].append([])
    rollback_task()
    assert [r.release for r in staging["deploy"]] == [A] and "warning" not in capsys.readouterr().out


# --- the reports ---------------------------------------------------------------------------------------------------

def test_the_releases_listing_and_document_show_the_mark() -> None:
    marked = Entry(at="2027-01-15T08:00:00.5Z", action="deploy", who="alice@laptop", outcome="ok", host="h1",
                   release=B, phases={"release": 2.0}, schema_changed=True)
    plain = Entry(at="2027-01-15T09:00:00.5Z", action="deploy", who="alice@laptop", outcome="ok", host="h1",
                  release=C)
    lines = releases_lines({"h1": [marked, plain]})
    assert lines[1].split()[3] == B and lines[2] == "      schema-changed (rolling back past it needs --yes)"
    assert lines[3].split()[3] == C and len(lines) == 4 and all(len(line) <= 80 for line in lines)
    assert entry_doc(marked)["schema_changed"] is True and entry_doc(plain)["schema_changed"] is False


def test_the_dry_run_plan_carries_the_warning() -> None:
    warning = rollback.schema_warning(A, [B]) or ""
    info = PlanInfo(action="rollback", release=A, environment="staging", strategy="parallel",
                    on_host_failure="abort", images={"api": f"reg/api:{A}"}, warnings=(warning,))
    lines = plan_lines(info, [])
    assert lines[1] == f"warning: {warning} (a real run needs --yes)"
    assert plan_doc(info, [])["warnings"] == [warning]
    assert plan_doc(PlanInfo("deploy", B, "staging", "parallel", "abort", {}), [])["warnings"] == []


# --- a deploy records what its release command reported ------------------------------------------------------------

MIGRATE = "python -m app migrate"


class Host:
    """A host's runner stand-in: the release command prints `stdout` and exits `code`; everything else succeeds.
    Records every command and its stdin."""

    dry_run = False

    def __init__(self, name: str, stdout: str = "", code: int = 0) -> None:
        self.host, self.stdout, self.code = name, stdout, code
        self.ran: list[tuple[list[str], str | None]] = []

    def run(self, argv: list[str], *, input: str | None = None, **_kwargs: Any) -> Result:
        self.ran.append((list(argv), input))
        release = argv[-1] == MIGRATE
        return Result(tuple(argv), self.code if release else 0, self.stdout if release else "", "", 0.0, self.host)

    def ledger(self) -> list[Entry]:
        lines = [text for argv, text in self.ran if text and text.startswith('{"action"')]
        return ledger.parse_ledger("".join(lines))


def deployment(hosts: list[Host], monkeypatch: pytest.MonkeyPatch) -> tuple[vm_bluegreen.Deployment, io.StringIO]:
    monkeypatch.delenv("SHIPYARD_FAULT", raising=False)
    layout = HostLayout("demo")
    target = SimpleNamespace(
        env=SimpleNamespace(deploy=SimpleNamespace(strategy="parallel", batch_size=1, on_host_failure="abort")),
        env_name="staging", registry=SimpleNamespace(address="registry.example.com"), layout=layout,
        host_login=lambda: None, runners=lambda: hosts, host_names=lambda: [h.host for h in hosts])
    request = vm_bluegreen.Request(action="deploy", release=B, images={"api": f"reg/api:{B}"},
                              env_contents={"api": f"POSTGRES_PASSWORD={CANARY}\n"})
    shown = io.StringIO()
    progress = Progress(Console(file=shown, width=300, highlight=False))
    deploy = vm_bluegreen.Deployment(target, request, progress)  # type: ignore[arg-type]
    first = deploy.runs[0]
    desired = bg.Desired("api", f"reg/api:{B}", B, 8000, "/ready", release_command=MIGRATE)
    first.plan = bg.plan_host(first.name, [desired], {"api": bg.ServiceFacts("api", image_present=True)},
                              run_hooks=True)
    first.ctx = bg.Context(layout=layout, backends=(Backend("api", 8000, "/ready", None),), public="api",
                           http_port=80, bind="0.0.0.0", health_timeout=30, watch_window=5,
                           env_files={"api": layout.env_file("api")}, env_contents=request.env_contents)
    return deploy, shown


def finish(deploy: vm_bluegreen.Deployment, outcome: str) -> None:
    for run in deploy.runs:
        run.outcome = outcome
        deploy._ledger(run)


def test_a_reported_change_marks_every_hosts_entry_and_prints_no_output(monkeypatch: pytest.MonkeyPatch) -> None:
    hosts = [Host("h1", f"connecting with POSTGRES_PASSWORD={CANARY}\nmigrate: applied 0003\n{SCHEMA_CHANGED}\n"),
             Host("h2")]
    deploy, shown = deployment(hosts, monkeypatch)
    deploy.release(deploy.runs[:1])
    assert any(argv[-1] == MIGRATE for argv, _ in hosts[0].ran)  # it really ran, on the first host only
    finish(deploy, "ok")
    assert [e.schema_changed for h in hosts for e in h.ledger()] == [True, True]
    printed = shown.getvalue()
    assert "api's release command changed the database schema (marked in the ledger" in printed
    assert CANARY not in printed and "migrate: applied" not in printed


def test_a_release_command_without_the_marker_leaves_the_entries_unmarked(monkeypatch: pytest.MonkeyPatch) -> None:
    hosts = [Host("h1", "migrate: schema up to date\n"), Host("h2")]
    deploy, shown = deployment(hosts, monkeypatch)
    deploy.release(deploy.runs[:1])
    finish(deploy, "ok")
    assert [e.schema_changed for h in hosts for e in h.ledger()] == [False, False]
    assert "schema" not in shown.getvalue()


def test_a_failed_release_command_that_changed_the_schema_still_marks_it(monkeypatch: pytest.MonkeyPatch) -> None:
    hosts = [Host("h1", f"migrate: applied 0003\n{SCHEMA_CHANGED}\n", code=1), Host("h2")]
    deploy, _ = deployment(hosts, monkeypatch)
    with pytest.raises(StepFailed) as info:
        deploy.release(deploy.runs[:1])
    assert SCHEMA_CHANGED in info.value.output and deploy.schema_changed == ["api"]
    finish(deploy, "aborted")
    assert [e.schema_changed for h in hosts for e in h.ledger()] == [True, True]


# --- the reference api's `migrate` ---------------------------------------------------------------------------------

@pytest.fixture
def api_main(monkeypatch: pytest.MonkeyPatch) -> Iterator[ModuleType]:
    """apps/api/app/__main__.py, imported without the api's dependencies (its database module is stood in for)."""
    def forget() -> None:
        for name in [n for n in sys.modules if n == "app" or n.startswith("app.")]:
            del sys.modules[name]

    forget()
    monkeypatch.setattr(sys, "dont_write_bytecode", True)  # no __pycache__ left in the api's source tree
    monkeypatch.syspath_prepend(str(ROOT / "apps" / "api"))
    module = importlib.import_module("app.__main__")
    yield module
    forget()


def fake_db(monkeypatch: pytest.MonkeyPatch, applied: list[str]) -> None:
    async def wait_and_migrate(_settings: object) -> list[str]:
        return applied

    db = ModuleType("app.db")
    db.wait_and_migrate = wait_and_migrate  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "app.db", db)
    monkeypatch.setattr(sys.modules["app"], "db", db, raising=False)


def test_the_api_uses_shipyards_marker(api_main: ModuleType) -> None:
    assert api_main.SCHEMA_CHANGED == SCHEMA_CHANGED
    assert api_main.migrate_report([]) == ["migrate: schema up to date"]
    assert api_main.migrate_report(["0003_add_title", "0004_backfill"]) == [
        "migrate: applied 0003_add_title, 0004_backfill", SCHEMA_CHANGED]


@pytest.mark.parametrize(("applied", "expected"), [
    (["0003_add_title"], ["migrate: applied 0003_add_title", SCHEMA_CHANGED]),
    ([], ["migrate: schema up to date"]),
])
def test_api_migrate_prints_the_marker_only_when_it_applied_something(
        api_main: ModuleType, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
        applied: list[str], expected: list[str]) -> None:
    for key, value in {"POSTGRES_HOST": "db", "POSTGRES_USER": "app", "POSTGRES_PASSWORD": CANARY,
                       "POSTGRES_DB": "items", "REDIS_URL": "redis://cache:6379/0"}.items():
        monkeypatch.setenv(key, value)
    fake_db(monkeypatch, applied)
    assert api_main.main(["migrate"]) == 0
    out = capsys.readouterr().out
    assert out.splitlines() == expected and CANARY not in out
    assert schema_changed(out) is bool(applied)  # what Shipyard reads from it
