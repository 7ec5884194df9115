"""The `--json` documents and the plain layouts, built by pure functions from the objects the tasks already hold
(shipyard.report): field names and types as docs/JSON.md documents them, a secret canary never present, and plain
rows that fit 80 columns with a long host name printed whole."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from shipyard.commands.haproxy import Backend
from shipyard.commands.layout import HostLayout
from shipyard.config import parse
from shipyard.errors import ConfigError, ShipyardError
from shipyard.facts.k8s import parse_workloads
from shipyard.facts.ledger import Entry
from shipyard.facts.lock import Lease
from shipyard.plans import bluegreen as bg
from shipyard.release import Release
from shipyard.report import dumps, fail_unreachable, plan_needs_dry_run, redacted
from shipyard.report.config import config_check_doc, config_check_lines, problem_doc
from shipyard.report.k8s import k8s_status_doc, k8s_status_lines
from shipyard.report.release import release_doc, release_lines
from shipyard.report.vm import (
    HostPlanView,
    PlanInfo,
    plan_doc,
    plan_lines,
    planned_step,
    releases_doc,
    releases_lines,
    status_doc,
    status_lines,
)
from shipyard.run.redact import Redactor
from shipyard.targets.vm.accessories import BootReport
from shipyard.targets.vm.admin import HostStatus, programs

ROOT = Path(__file__).resolve().parents[2]
RECORDED = Path(__file__).parent / "recorded"
CANARY = "canary-json-5b1e-never-print-me"  # pragma: allowlist secret
LONG = "shipyard-ref-sandbox-3"
A, B = "4f1c2a9e0b7d", "9a8b7c6d5e4f"
NOW = 1_800_000_000.0


def entry(release: str, *, at: str = "2027-01-15T08:00:00.123456Z", action: str = "deploy", outcome: str = "ok",
          **over: Any) -> Entry:
    base: dict[str, Any] = dict(at=at, action=action, who="alice@laptop", outcome=outcome, host=LONG,
                                release=release, previous=None, hosts=[LONG], services={"api": f"reg/api:{release}"},
                                phases={"pull": 3.25, "switch": 0.5})
    base.update(over)
    return Entry(**base)


def roundtrip(doc: dict[str, Any]) -> dict[str, Any]:
    """What a CI script reads: the printed text parsed back (strict JSON: no NaN or Infinity)."""
    loaded: dict[str, Any] = json.loads(dumps(doc, Redactor()))
    return loaded


def fits(lines: list[str]) -> None:
    long = [line for line in lines if len(line) > 80]
    assert not long, long


# --- status ------------------------------------------------------------------------------------------------------

def statuses() -> list[HostStatus]:
    lease = Lease(id="x", holder="bob@ci-runner", machine="ci-runner", pid=4242, reason="deploy 9a8b7c6d5e4f",
                  started=NOW - 30, expires=NOW + 60)
    healthy = HostStatus(LONG, services={"api": ("blue", A, "healthy"), "web": ("green", A, "healthy")},
                         kept={"api": ("green", B, "standby")}, lock=lease, last=entry(A))
    fresh = HostStatus("shipyard-ref-sandbox-4", services={"api": ("-", "-", "not deployed"),
                                                           "web": ("blue", "?", "unhealthy")})
    dead = HostStatus("shipyard-ref-sandbox-5", error="[shipyard-ref-sandbox-5] unreachable: connection refused")
    return [healthy, fresh, dead]


def test_status_document() -> None:
    doc = roundtrip(status_doc("staging", statuses(), NOW))
    assert doc["schema"] == "shipyard.status/v1" and doc["environment"] == "staging" and doc["ok"] is False
    assert [h["host"] for h in doc["hosts"]] == [LONG, "shipyard-ref-sandbox-4", "shipyard-ref-sandbox-5"]
    healthy, fresh, dead = doc["hosts"]
    assert set(healthy) == {"host", "error", "services", "lock", "last"} == set(dead)
    assert healthy["error"] is None
    assert healthy["services"] == [
        {"service": "api", "colour": "blue", "release": A, "health": "healthy",
         "kept": {"colour": "green", "release": B, "state": "standby"}},
        {"service": "web", "colour": "green", "release": A, "health": "healthy", "kept": None}]
    lock = healthy["lock"]
    assert (lock["holder"], lock["pid"], lock["reason"], lock["expired"]) == ("bob@ci-runner", 4242,
                                                                             "deploy 9a8b7c6d5e4f", False)
    assert lock["started"] == "2027-01-15T07:59:30Z" and lock["expires"] == "2027-01-15T08:01:00Z"
    assert lock["description"].startswith("held by bob@ci-runner (pid 4242)")
    assert healthy["last"]["release"] == A and healthy["last"]["duration"] == 3.75
    assert fresh["services"] == [
        {"service": "api", "colour": None, "release": None, "health": "not deployed", "kept": None},
        # "?" is no release either
        {"service": "web", "colour": "blue", "release": None, "health": "unhealthy", "kept": None}]
    assert fresh["lock"] is None and fresh["last"] is None
    assert dead == {"host": "shipyard-ref-sandbox-5", "error": statuses()[2].error, "services": [], "lock": None,
                    "last": None}


def test_a_corrupt_lock_never_expires_and_is_still_json() -> None:
    corrupt = Lease(id="", holder="unknown (unreadable lock.json)", machine="", pid=0, reason="corrupt lock file",
                    started=0.0, expires=float("inf"))
    doc = roundtrip(status_doc("staging", [HostStatus(LONG, lock=corrupt)], NOW))
    lock = doc["hosts"][0]["lock"]
    assert lock["expires"] is None and lock["expired"] is False and doc["ok"] is True


def test_status_plain_fits_80_columns_with_long_host_names() -> None:
    lines = status_lines(statuses()[:2], NOW)
    assert lines[0] == f"[{LONG}]"  # the whole name, once, on a line of its own
    assert lines[1].split() == ["api", A, "blue", "healthy"]
    assert lines[2].split() == [B, "green", "kept:", "standby"]  # under the live release, the one kept
    assert lines[4].startswith("  lock: held by bob@ci-runner")
    assert lines[5] == f"  last: 2027-01-15 08:00:00 deploy {A} ok by alice@laptop"
    assert "[shipyard-ref-sandbox-4]" in lines and "lock: free" in lines[-1]
    fits([line for line in lines if "lock:" not in line])  # the lock's sentence may wrap; no table row does
    dead = status_lines(statuses()[2:], NOW)
    assert dead == ["[shipyard-ref-sandbox-5] unreachable or not set up: [shipyard-ref-sandbox-5] unreachable:"
                    " connection refused"]


# --- releases ----------------------------------------------------------------------------------------------------

def ledgers() -> dict[str, list[Entry] | BaseException]:
    return {LONG: [entry(A), entry(B, at="2027-01-15T09:30:00Z", outcome="switched-back",
                                    error="api unhealthy after the switch"),
                   entry(A, at="2027-01-15T09:40:00Z", action="rollback", detail="back to 4f1c2a9e0b7d")],
            "shipyard-ref-sandbox-4": [],
            "shipyard-ref-sandbox-5": ShipyardError("[shipyard-ref-sandbox-5] unreachable: connection refused")}


def test_releases_document() -> None:
    doc = roundtrip(releases_doc("staging", ledgers()))
    assert doc["schema"] == "shipyard.releases/v1" and doc["ok"] is False and doc["environment"] == "staging"
    full, empty, dead = doc["hosts"]
    assert full["host"] == LONG and full["error"] is None and len(full["entries"]) == 3
    first = full["entries"][0]
    assert set(first) == {"at", "action", "who", "outcome", "host", "release", "previous", "hosts", "services",
                          "phases", "duration", "error", "detail", "schema_changed"}
    assert first["schema_changed"] is False
    assert first["at"] == "2027-01-15T08:00:00.123456Z" and first["phases"] == {"pull": 3.25, "switch": 0.5}
    assert isinstance(first["duration"], float) and first["previous"] is None and first["hosts"] == [LONG]
    assert [e["outcome"] for e in full["entries"]] == ["ok", "switched-back", "ok"]  # oldest first
    assert full["entries"][1]["error"] == "api unhealthy after the switch"
    assert empty == {"host": "shipyard-ref-sandbox-4", "error": None, "entries": []}
    assert dead["entries"] == [] and dead["error"].endswith("unreachable: connection refused")


def test_releases_plain_fits_80_columns_with_long_host_names() -> None:
    lines = releases_lines(ledgers())
    assert lines[0] == f"[{LONG}]"
    assert lines[1].split() == ["2027-01-15", "08:00:00", "deploy", A, "ok", "3.8s", "alice@laptop"]
    assert lines[3] == "      error: api unhealthy after the switch"
    assert lines[5] == "      back to 4f1c2a9e0b7d"
    assert lines[6:] == ["[shipyard-ref-sandbox-4] no releases yet",
                         "[shipyard-ref-sandbox-5] cannot read the ledger: [shipyard-ref-sandbox-5] unreachable:"
                         " connection refused"]
    fits(lines[:6])
    # the columns line up across rows
    assert len({line.index(A) for line in lines if A in line and "back to" not in line}) == 1


# --- the dry-run plan --------------------------------------------------------------------------------------------

def host_plan() -> HostPlanView:
    """A real plan on one host (blue serves A, B goes to green), whose env file holds the canary."""
    desired = bg.Desired("api", f"127.0.0.1:5000/demo/api:{B}", B, 8000, "/ready", public=True)
    observed = bg.ServiceFacts("api", persisted="blue")
    plan = bg.plan_host(LONG, [desired], {"api": observed})
    ctx = bg.Context(layout=HostLayout("demo"), backends=(Backend("api", 8000, "/ready", None),), public="api",
                     http_port=8080, bind="127.0.0.1", health_timeout=30, watch_window=5,
                     env_files={"api": "/var/lib/shipyard/demo/env/api.env"},
                     env_contents={"api": f"TOKEN={CANARY}\n"})
    steps = bg.describe(plan, ctx)
    assert any(s.input and CANARY in s.input for s in steps)  # the canary really is in the plan's inputs
    layout = HostLayout("demo")
    return HostPlanView(LONG, lock=layout.lock, ledger=layout.ledger,
                        login={"address": "registry.example.com", "username": "ci", "config_dir": "/x/docker"},
                        services=plan.services, steps=tuple(planned_step(s, programs()) for s in steps))


INFO = PlanInfo(action="deploy", release=B, environment="staging", strategy="parallel", on_host_failure="abort",
                images={"api": f"127.0.0.1:5000/demo/api:{B}"})


def test_plan_document_never_holds_a_secret() -> None:
    view = host_plan()
    dead = HostPlanView("shipyard-ref-sandbox-4", error="[shipyard-ref-sandbox-4] unreachable: connection refused")
    boot = [BootReport(LONG, changed=["accessory redis: started (redis:7)"], in_place=["accessory postgres"]),
            BootReport("shipyard-ref-sandbox-4", unreadable="unreachable")]
    doc = plan_doc(INFO, [view, dead], accessories=boot, log=["image x: already in the registry (reused)"])
    text = dumps(doc, Redactor())  # no redactor help: the document itself holds no secret value
    assert CANARY not in text
    doc = json.loads(text)
    assert doc["schema"] == "shipyard.plan/v1" and doc["ok"] is False
    assert (doc["action"], doc["release"], doc["environment"], doc["strategy"], doc["on_host_failure"]) == (
        "deploy", B, "staging", "parallel", "abort")
    assert doc["images"] == {"api": f"127.0.0.1:5000/demo/api:{B}"}
    assert doc["log"] == ["image x: already in the registry (reused)"] and doc["warnings"] == []
    assert doc["accessories"] == [
        {"host": LONG, "error": None, "would_change": ["accessory redis: started (redis:7)"],
         "in_place": ["accessory postgres"]},
        {"host": "shipyard-ref-sandbox-4", "error": "unreachable", "would_change": [], "in_place": []}]
    host, unread = doc["hosts"]
    assert unread == {"host": "shipyard-ref-sandbox-4", "error": dead.error, "lock": None, "ledger": None,
                      "registry_login": None, "services": [], "steps": []}
    assert host["error"] is None and host["lock"] == "/var/lib/shipyard/demo/lock.json"
    assert host["ledger"] == "/var/lib/shipyard/demo/ledger.jsonl"
    assert host["registry_login"] == {"address": "registry.example.com", "username": "ci", "config_dir": "/x/docker"}
    assert host["services"] == [{"service": "api", "live": None, "live_release": None, "target": "green",
                                 "release": B, "image": f"127.0.0.1:5000/demo/api:{B}", "pull": True,
                                 "converged": False, "reuse": None}]
    steps = host["steps"]
    assert all(set(s) == {"phase", "kind", "what", "argv", "command", "stdin"} for s in steps)
    assert all(isinstance(s["argv"], list) and all(isinstance(a, str) for a in s["argv"]) for s in steps)
    secret = [s for s in steps if s["stdin"] and s["stdin"]["secret"]]
    assert secret and all(s["stdin"]["text"] is None and s["stdin"]["bytes"] == len(f"TOKEN={CANARY}\n")
                          for s in secret)
    shown = [s for s in steps if s["stdin"] and not s["stdin"]["secret"]]
    assert shown and all(isinstance(s["stdin"]["text"], str) for s in shown)
    phases = [s["phase"] for s in steps]
    assert {"pull", "start", "healthy", "switch", "verify", "retire"} <= set(phases)
    assert phases.index("pull") < phases.index("healthy") < phases.index("switch") < phases.index("retire")
    write = next(s for s in steps if s["stdin"] and s["stdin"]["secret"])
    assert write["argv"][:3] == ["sh", "-c", "<write.sh>"] and write["argv"][-2].endswith("/env/api.env")
    assert write["command"].startswith("sh -c <write.sh> ")  # by name, unquoted, in the shell line too
    named = {a for s in steps for a in s["argv"] if a.startswith("<") and a.endswith(">")}
    assert named == {"<admin-client.py>", "<write.sh>", "<http-probe.py>"}  # programs by name, never their text
    assert all(len(a) < 400 for s in steps for a in s["argv"])


def test_plan_plain_lines_are_unchanged_in_shape() -> None:
    lines = plan_lines(INFO, [host_plan(), HostPlanView("shipyard-ref-sandbox-4", error="refused")])
    assert lines[0] == f"plan: deploy {B} to staging (parallel, on_host_failure=abort); nothing changes"
    assert lines[1] == f"[{LONG}] lock /var/lib/shipyard/demo/lock.json (lease, renewed while the deploy runs)"
    assert lines[2].startswith(f"[{LONG}] registry login to registry.example.com as ci into /x/docker")
    assert lines[3] == f"[{LONG}] api: nothing live -> green={B}"
    assert any(line.endswith(" <<< (secret input, not shown)") for line in lines)
    assert any("$ python3 -I -S -c <admin-client.py> " in line for line in lines)  # by name, unquoted
    assert lines[-2] == f"[{LONG}] ledger append to /var/lib/shipyard/demo/ledger.jsonl; unlock"
    assert lines[-1] == "[shipyard-ref-sandbox-4] cannot read this host's facts: refused"
    assert not any(CANARY in line for line in lines)


# --- release, config, k8s ----------------------------------------------------------------------------------------

def test_release_document() -> None:
    config = parse((ROOT / "shipyard.yaml").read_text())
    release = Release(sha="0123456789abcdef0123456789abcdef01234567", branch="main", version="v1.2.3", dirty=True)
    doc = roundtrip(release_doc(release, config.registry("staging"), ["api", "web"], "staging"))
    assert doc == {"schema": "shipyard.release/v1", "sha": release.sha, "short_sha": "0123456789ab",
                   "tag": "0123456789ab-dirty", "branch": "main", "version": "v1.2.3", "dirty": True,
                   "environment": "staging",
                   "registry": {"address": "127.0.0.1:5000", "namespace": "shipyard"},
                   "images": {"api": "127.0.0.1:5000/shipyard/api:0123456789ab-dirty",
                              "web": "127.0.0.1:5000/shipyard/web:0123456789ab-dirty"}}
    clean = roundtrip(release_doc(Release(sha=release.sha), config.registry(), [], None))
    assert clean["branch"] is None and clean["version"] is None and clean["dirty"] is False and clean["images"] == {}
    lines = release_lines(release, config.registry(), ["api"])
    assert lines[0].endswith(" DIRTY") and lines[-1] == "image    127.0.0.1:5000/shipyard/api:0123456789ab-dirty"


def broken() -> str:
    text = (ROOT / "shipyard.yaml").read_text()
    assert "    port: 8000\n" in text and "address: staging-2.example.com" in text
    return text.replace("    port: 8000\n", "    port: x\n", 1).replace("address: staging-2.example.com",
                                                                      "address: bad host", 1)


def test_config_check_document_of_a_broken_file() -> None:
    with pytest.raises(ConfigError) as info:
        parse(broken())
    path = Path("/somewhere/shipyard.yaml")
    doc = roundtrip(config_check_doc(path, None, info.value.problems))
    assert doc["schema"] == "shipyard.config-check/v1" and doc["ok"] is False and doc["file"] == str(path)
    assert doc["project"] is None and doc["services"] == [] and doc["environments"] == {}
    text = broken()
    port_line = text[:text.index("port: x")].count("\n") + 1
    host_line = text[:text.index("bad host")].count("\n") + 1
    assert [(p["file"], p["line"], p["path"], p["message"]) for p in doc["problems"]] == [
        ("shipyard.yaml", port_line, "services.api.port", "must be an integer"),
        ("shipyard.yaml", host_line, "environments.staging.hosts[1].address", "not a host name or address")]
    assert [p["text"] for p in doc["problems"]] == info.value.problems


def test_config_check_document_of_a_valid_file() -> None:
    config = parse((ROOT / "shipyard.yaml").read_text())
    doc = roundtrip(config_check_doc(Path("/x/shipyard.yaml"), config, []))
    assert doc["ok"] is True and doc["problems"] == [] and doc["project"] == "shipyard-demo"
    assert doc["services"] == ["api", "web"]
    assert doc["environments"]["production"] == {"target": "vm", "require_approval": True}
    assert doc["environments"]["staging"] == {"target": "vm", "require_approval": False}
    assert doc["environments"]["k8s-production"] == {"target": "kubernetes", "require_approval": True}
    assert config_check_lines(Path("/x/shipyard.yaml"), config, [])[0].startswith("shipyard.yaml: ok - project")


@pytest.mark.parametrize(("text", "expected"), [
    ("shipyard.yaml:3 (document): not UTF-8 text (byte 8); save the file as UTF-8",
     ("shipyard.yaml", 3, None, "not UTF-8 text (byte 8); save the file as UTF-8")),
    ("shipyard.yaml: environment 'staging': service api requires REDIS_URL, which neither its env nor its"
     " secrets provide", ("shipyard.yaml", None, None, "environment 'staging': service api requires REDIS_URL,"
                          " which neither its env nor its secrets provide")),
    ("something else entirely: 12", (None, None, None, "something else entirely: 12")),
])
def test_problem_parts(text: str, expected: tuple[Any, ...]) -> None:
    doc = problem_doc(text, "shipyard.yaml")
    assert (doc["file"], doc["line"], doc["path"], doc["message"]) == expected and doc["text"] == text


def test_k8s_status_document() -> None:
    workloads = parse_workloads((RECORDED / "k8s" / "get_workloads.json").read_text())
    assert workloads
    doc = roundtrip(k8s_status_doc("k8s-staging", "do-staging", "shipyard", workloads))
    assert doc["schema"] == "shipyard.k8s-status/v1" and doc["context"] == "do-staging"
    assert doc["namespace"] == "shipyard" and doc["environment"] == "k8s-staging"
    assert doc["healthy"] is all(w.healthy for w in workloads)
    for got, w in zip(doc["workloads"], workloads, strict=True):
        assert got == {"kind": w.kind, "name": w.name, "desired": w.desired, "ready": w.ready,
                       "updated": w.updated, "healthy": w.healthy, "images": list(w.images)}
    lines = k8s_status_lines("do-staging", "shipyard", workloads)
    assert lines[0].startswith(f"{workloads[0].kind.lower()}/{workloads[0].name}")
    assert sum(1 for line in lines if line.startswith("    ")) == sum(len(w.images) for w in workloads)
    empty = roundtrip(k8s_status_doc("k8s-dev", "minikube", "shipyard", []))
    assert empty["workloads"] == [] and empty["healthy"] is True
    assert k8s_status_lines("minikube", "shipyard", []) == ["nothing deployed in namespace shipyard (context"
                                                            " minikube)"]


# --- the common parts --------------------------------------------------------------------------------------------

def test_dumps_redacts_every_string_and_is_one_sorted_document() -> None:
    doc = {"schema": "shipyard.status/v1", "b": [f"token {CANARY}", {CANARY: 1}], "a": {"x": (CANARY,)}}
    text = dumps(doc, Redactor([CANARY]))
    assert CANARY not in text and text.count("******") == 3
    assert json.loads(text) == {"schema": "shipyard.status/v1", "b": ["token ******", {"******": 1}],
                                "a": {"x": ["******"]}}
    assert text.index('"a"') < text.index('"b"') < text.index('"schema"')  # sorted keys: stable for diffs
    assert redacted(7, Redactor([CANARY])) == 7
    with pytest.raises(ValueError, match="Out of range float"):
        dumps({"x": float("inf")}, Redactor())  # never a non-standard Infinity in the output


def test_unreachable_hosts_end_in_one_line_and_json_needs_a_dry_run() -> None:
    fail_unreachable([], 2, "their status is unknown")  # every host read: nothing to say
    with pytest.raises(ShipyardError) as info:
        fail_unreachable(["h1"], 2, "their status is unknown")
    assert str(info.value).startswith("1 of 2 host(s) could not be read (h1): their status is unknown")
    plan_needs_dry_run(True, True)
    plan_needs_dry_run(False, False)
    with pytest.raises(ShipyardError, match="--json prints the plan of a dry run"):
        plan_needs_dry_run(True, False)


def test_compose_status_document() -> None:
    from shipyard.facts.compose import ServiceState
    from shipyard.report.compose import status_doc

    states = [ServiceState("web", "p-web-1", "running", "starting", 0, "Up 3s", "r/web@sha256:ab"),
              ServiceState("api", "p-api-1", "running", "healthy", 0, "Up 9s", "r/api@sha256:cd"),
              ServiceState("redis", "p-redis-1", "running", "", 0, "Up 9s", "redis:7")]
    live = Entry(at="2026-11-30T10:00:00Z", action="deploy", who="me@laptop", outcome="ok", host="local",
                 release="0123456789ab", services={"api": "r/api@sha256:cd"})
    doc = json.loads(dumps(status_doc("local", states, live, releases=True)))
    assert doc["schema"] == "shipyard.compose-status/v1"
    assert (doc["environment"], doc["releases"], doc["running"], doc["ready"]) == ("local", True, True, False)
    assert doc["release"]["release"] == "0123456789ab" and doc["release"]["action"] == "deploy"
    assert [s["service"] for s in doc["services"]] == ["api", "redis", "web"]
    assert doc["services"][1] == {"service": "redis", "container": "p-redis-1", "state": "running", "health": None,
                                  "condition": "running", "ready": True, "image": "redis:7"}
    empty = status_doc("dev", [], None, releases=False)
    assert (empty["running"], empty["ready"], empty["release"], empty["services"]) == (False, False, None, [])
