"""Blue/green on a real sandbox VM through the real CLI, under keep-alive load from clients that never retry."""

from __future__ import annotations

import json
import re
import signal
import time
from typing import Any

import pytest
from deploybed import BROKEN, CANARY, FLAKY, LEAKY, NAMESPACE, PROJECT, REGISTRY, A, B, Bed, C, HostState, image

from shipyard.sandbox.load import LoadGenerator, LoadReport

pytestmark = [pytest.mark.e2e, pytest.mark.slow]


def ensure_live(bed: Bed, release: str) -> None:
    result = bed.shipyard("deploy", "--env", "sandbox", "--sha", release)
    assert result.returncode == 0, result.stdout + result.stderr


def under_load(bed: Bed, releases: set[str], *args: str) -> tuple[Any, LoadReport]:
    """Run the CLI while keep-alive clients that never retry load the proxy; only `releases` may answer."""
    with LoadGenerator(bed.http_port, releases=releases, rate=150, clients=8, max_seconds=240) as load:
        time.sleep(0.5)
        result = bed.shipyard(*args)
        time.sleep(0.5)
    return result, load.report


def assert_clean(report: LoadReport, minimum: int = 0) -> None:
    """No failed request, no connection the proxy closed under a client, and at least `minimum` requests."""
    assert report.failed == 0 and report.reopened == 0 and report.total > minimum, report.summary()


def test_deploy_then_rollback_under_load_drop_nothing(bed: Bed, state: HostState) -> None:
    ensure_live(bed, A)
    state.assert_serving(A)

    result, report = under_load(bed, {A, B}, "deploy", "--env", "sandbox", "--sha", B)
    assert result.returncode == 0, result.stdout + result.stderr
    assert_clean(report, 500)
    assert report.releases[A] > 0 and report.releases[B] > 0, report.summary()
    assert report.last_seen[A] < report.last_seen[B]  # traffic moved to B and stayed there
    state.assert_serving(B)
    last = state.ledger()[-1]
    assert (last["action"], last["release"], last["outcome"], last["previous"]) == ("deploy", B, "ok", A)
    assert {"lock", "start", "healthy", "switch", "verify", "watch", "retire"} <= set(last["phases"])
    # long steps say when they start (then again with their time when they end)
    assert re.search(r"^\[\S+\] healthy .* \.\.\.$", result.stdout, re.M), result.stdout
    assert re.search(r"^\[\S+\] watch .* \.\.\.$", result.stdout, re.M), result.stdout

    result, report = under_load(bed, {A, B}, "rollback", "--env", "sandbox")  # no --sha: the previous release
    assert result.returncode == 0, result.stdout + result.stderr
    assert "rolling sandbox back to " + A in result.stdout
    assert "pull" not in state.ledger()[-1]["phases"]  # the image was still on the host
    assert_clean(report, 500)
    assert report.last_seen[B] < report.last_seen[A]
    state.assert_serving(A)
    assert state.ledger()[-1]["action"] == "rollback"


@pytest.mark.parametrize(("policy", "kept"), [("standby", ("running", "drain")), ("stop", ("exited", "maint"))])
def test_a_kept_previous_colour_is_rolled_back_to_without_a_new_container(bed: Bed, state: HostState, policy: str,
                                                                            kept: tuple[str, str]) -> None:
    """deploy.previous_colour: after B's watch window, A's container stays (a standby out of traffic, or stopped);
    `rollback` puts that same container back (a standby: no container started at all), under load, and B is
    then the one kept. A plain deploy with the default policy removes the kept colour again."""
    env = f"keep-{policy}"
    ensure_live(bed, A)
    deployed = bed.shipyard("deploy", "--env", env, "--sha", B)
    assert deployed.returncode == 0, deployed.stdout + deployed.stderr
    containers = state.containers()
    assert sorted(containers.values()) == sorted([("running", B), (kept[0], A)]), containers
    a_name = next(name for name, (_, rel) in containers.items() if rel == A)
    a_colour = a_name.rsplit("-", 1)[1]
    assert state.servers()[a_colour][0] == kept[1], state.servers()
    created = state.host.check_output(f"docker inspect --format '{{{{.Created}}}}' {a_name}")
    status = bed.shipyard("status", "--env", env)
    assert status.returncode == 0 and ("kept: standby" if policy == "standby" else "kept: stopped") in status.stdout, \
        status.stdout + status.stderr

    result, report = under_load(bed, {A, B}, "rollback", "--env", env, "--sha", A)
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert_clean(report, 100)
    assert report.last_seen[B] < report.last_seen[A], report.summary()
    assert f"start app {A} as" not in output and "pull" not in state.ledger()[-1]["phases"]  # no new container
    if policy == "stop":
        assert "start the stopped" in output, output
    else:  # a switch: not even a wait for its health (it passes its checks), only the switch and its checks
        assert "start the stopped" not in output and "healthy" not in state.ledger()[-1]["phases"], output
    assert state.host.check_output(f"docker inspect --format '{{{{.Created}}}}' {a_name}") == created  # the same one
    containers = state.containers()
    assert sorted(containers.values()) == sorted([("running", A), (kept[0], B)]), containers
    last = state.ledger()[-1]
    assert (last["action"], last["release"], last["outcome"]) == ("rollback", A, "ok")

    ensure_live(bed, A)  # converged, default policy: the kept colour is removed
    state.assert_serving(A)


def test_broken_release_never_takes_traffic(bed: Bed, state: HostState) -> None:
    ensure_live(bed, A)
    result, report = under_load(bed, {A}, "deploy", "--env", "sandbox", "--sha", BROKEN)
    output = result.stdout + result.stderr
    assert result.returncode != 0
    assert "never passed its readiness check within 20s" in output, output
    assert "fixture: database connection refused (simulated)" in output, output  # the container's last log lines
    assert "the previous release keeps serving there" in output
    assert "Traceback" not in output
    assert_clean(report)  # an answer from BROKEN would have been a failure: only A may answer
    state.assert_serving(A)
    last = state.ledger()[-1]
    assert (last["release"], last["outcome"]) == (BROKEN, "failed") and "readiness" in last["error"]


def test_failure_inside_watch_window_switches_back(bed: Bed, state: HostState) -> None:
    ensure_live(bed, A)
    result, report = under_load(bed, {A, FLAKY}, "deploy", "--env", "sandbox", "--sha", FLAKY)
    output = result.stdout + result.stderr
    assert result.returncode != 0
    # Two judges watch the window and either may see FLAKY first: HAProxy's health check ("went down") or its
    # counters of real requests (FLAKY's 500s before the check takes it out). Both must switch back.
    caught = ("went down inside the watch window", "real requests inside the watch window")
    assert any(reason in output for reason in caught) and "switched-back" in output, output
    assert report.releases[FLAKY] > 0, report.summary()  # it did take traffic before failing
    assert report.last_seen[FLAKY] < report.last_seen[A]  # and A has it back
    # FLAKY answers 500 to real requests from the moment its readiness fails. HAProxy's checks (every 250 ms,
    # then 100 ms after a failure; down after 2 failures) take it out, and the old colour, kept as a backup
    # server, takes every request at once: the only failures are FLAKY's own 500s inside that detection time.
    # Without the backup the proxy would answer 503 until Shipyard switched back; a dropped connection would show
    # as reopened.
    assert report.reopened == 0, report.summary()
    assert set(report.errors) <= {f"HTTP 500: {FLAKY} is unhealthy"}, report.summary()
    if report.failure_times:
        assert max(report.failure_times) - min(report.failure_times) < 1.5, report.summary()
        assert max(report.failure_times) < report.last_seen[A], report.summary()
    state.assert_serving(A)
    assert state.ledger()[-1]["outcome"] == "switched-back"


def test_a_ready_release_that_fails_real_requests_is_switched_back(bed: Bed, state: HostState) -> None:
    """LEAKY answers its readiness probe and a third of real requests with 500: the health check cannot see it, the
    watch window's judgement of its traffic (HAProxy's counters) does, and A takes the traffic back."""
    ensure_live(bed, A)
    result, report = under_load(bed, {A, LEAKY}, "deploy", "--env", "sandbox", "--sha", LEAKY)
    output = result.stdout + result.stderr
    assert result.returncode != 0
    assert "real requests inside the watch window" in output and "switched-back" in output, output
    assert "Traceback" not in output
    assert report.releases[LEAKY] > 0 and report.last_seen[LEAKY] < report.last_seen[A], report.summary()
    assert report.reopened == 0 and set(report.errors) <= {f"HTTP 500: {LEAKY} is unhealthy"}, report.summary()
    state.assert_serving(A)
    last = state.ledger()[-1]
    assert (last["release"], last["outcome"]) == (LEAKY, "switched-back")


def _wait_for_lock(state: HostState, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while state.lock_free():
        assert time.monotonic() < deadline, "the first deploy never took the lock"
        time.sleep(0.1)


def test_concurrent_deploy_is_refused_with_holder(bed: Bed, state: HostState) -> None:
    ensure_live(bed, A)
    first = bed.start("deploy", "--env", "sandbox", "--sha", B)
    try:
        _wait_for_lock(state)
        second = bed.shipyard("deploy", "--env", "sandbox", "--sha", B)
        output = second.stdout + second.stderr
        assert second.returncode != 0
        assert "another deploy is in progress: held by" in output and f"(pid {first.pid})" in output
        assert f"for 'deploy {B} to sandbox'" in output and "expires in" in output
        assert "--wait" in output and "deploy.unlock --force" in output
    finally:
        out, _ = first.communicate(timeout=180)
    assert first.returncode == 0, out
    state.assert_serving(B)


def deploy_until_started(bed: Bed, state: HostState, release: str) -> Any:
    """A deploy of `release` in the background, returned once its new container runs (before or just at cutover)."""
    deployer = bed.start("deploy", "--env", "sandbox", "--sha", release)
    deadline = time.monotonic() + 60
    while not any(rel == release and st == "running" for st, rel in state.containers().values()):
        assert time.monotonic() < deadline and deployer.poll() is None, f"{release} never started"
        time.sleep(0.1)
    return deployer


def test_killed_deployer_leaves_a_serving_host_and_no_manual_step(bed: Bed, state: HostState) -> None:
    ensure_live(bed, A)
    with LoadGenerator(bed.http_port, releases={A, B}, rate=150, clients=8, max_seconds=240) as load:
        deployer = deploy_until_started(bed, state, B)
        deployer.send_signal(signal.SIGKILL)  # mid-deploy: B started, not yet (or just) switched
        deployer.wait(timeout=10)
        assert not state.lock_free()  # the lease it held is still there
        time.sleep(1)
        again = bed.shipyard("deploy", "--env", "sandbox", "--sha", B)
        time.sleep(0.5)
    output = again.stdout + again.stderr
    assert again.returncode == 0, output
    assert "took over a stale deploy lock" in output and "is no longer running" in output
    assert_clean(load.report)
    state.assert_serving(B)
    actions = [e["action"] for e in state.ledger()[-3:]]
    assert "takeover" in actions


def test_sigterm_stops_at_a_step_boundary_then_writes_the_ledger_and_releases_the_lock(bed: Bed,
                                                                                     state: HostState) -> None:
    """What a cancelled CI job sends: the deploy stops before its next step, puts the host back (the new colour
    abandoned, or switched back), records why, and leaves no lock behind."""
    ensure_live(bed, A)
    with LoadGenerator(bed.http_port, releases={A, B}, rate=150, clients=8, max_seconds=240) as load:
        deployer = deploy_until_started(bed, state, B)
        deployer.send_signal(signal.SIGTERM)
        out, _ = deployer.communicate(timeout=180)
        time.sleep(0.5)
    assert deployer.returncode == 1, out
    assert "SIGTERM: stopping at the next step boundary" in out and "interrupted by SIGTERM: stopped before" in out
    assert "Traceback" not in out
    assert_clean(load.report)
    state.assert_serving(A)  # includes: the lock is free
    last = state.ledger()[-1]
    assert last["release"] == B and last["outcome"] in {"failed", "switched-back"}, last
    assert "interrupted by SIGTERM" in last["error"]


@pytest.mark.parametrize(("policy", "serves"), [("abort", A), ("continue", B)])
def test_unreachable_host_policy(bed: Bed, state: HostState, policy: str, serves: str) -> None:
    ensure_live(bed, A)
    result = bed.shipyard("deploy", "--env", f"pair-{policy}", "--sha", B)
    output = result.stdout + result.stderr
    assert result.returncode != 0
    assert "dead-host" in output and "unreachable" in output
    state.assert_serving(serves)  # abort: nothing switched anywhere; continue: the reachable host moved on
    dry = bed.shipyard("deploy", "--env", f"pair-{policy}", "--sha", B, "--dry-run")
    assert dry.returncode == 1 and "[dead-host] cannot read this host's facts" in dry.stdout  # printed, then:
    assert dry.stderr.strip().startswith("error: 1 of 2 host(s) could not be read (dead-host)"), dry.stderr


def host_snapshot(state: HostState) -> tuple[Any, ...]:
    """Everything a deploy could change on the host, read with testinfra: containers, proxy servers, the state
    directory's files (checksums: ledger, haproxy.cfg, env files; the lock is absent when free), images."""
    files = state.host.check_output(f"cd {state.STATE} && find . -type f ! -name '*.sock' -print0 | sort -z"
                                    " | xargs -0 sha256sum")
    images = state.host.check_output("docker image ls --no-trunc --format '{{.Repository}}:{{.Tag}} {{.ID}}'")
    return state.containers(), state.servers(), files, sorted(images.splitlines())


@pytest.mark.parametrize("argv", [
    ("deploy", "--env", "sandbox", "--sha", B, "--dry-run"),
    ("--dry", "deploy", "--env", "sandbox", "--sha", B),  # Invoke's own dry-run flag means the same
    ("--dry", "rollback", "--env", "sandbox", "--sha", B),
], ids=["deploy --dry-run", "invoke --dry deploy", "invoke --dry rollback"])
def test_dry_run_prints_the_plan_and_changes_nothing(bed: Bed, state: HostState, argv: tuple[str, ...]) -> None:
    if B not in {entry.get("release") for entry in state.ledger()}:
        ensure_live(bed, B)  # a rollback to B needs B in the ledger (and its image, kept by retention)
    ensure_live(bed, A)
    before = host_snapshot(state)
    result = bed.shipyard(*argv)
    assert result.returncode == 0, result.stdout + result.stderr
    out = result.stdout
    assert f"app: blue={A} -> green={B}" in out or f"app: green={A} -> blue={B}" in out, out
    assert "docker run --detach --name shipyard-e2e-app-" in out
    assert "set server app/" in out and "state ready" in out
    assert host_snapshot(state) == before
    state.assert_serving(A)


def test_status_and_releases(bed: Bed, state: HostState) -> None:
    ensure_live(bed, A)
    status = bed.shipyard("deploy.status", "--env", "sandbox")
    assert status.returncode == 0, status.stderr
    assert A in status.stdout and "healthy" in status.stdout and "lock: free" in status.stdout
    releases = bed.shipyard("deploy.releases", "--env", "sandbox")
    assert releases.returncode == 0 and A in releases.stdout and "deploy" in releases.stdout
    # the top-level verbs every target has read the same hosts
    top = bed.shipyard("releases", "--env", "sandbox", "--json")
    assert top.returncode == 0, top.stderr
    doc = json.loads(top.stdout)
    assert doc["schema"] == "shipyard.releases/v1"
    assert A in [entry["release"] for host in doc["hosts"] for entry in host["entries"]], doc
    status = bed.shipyard("status", "--env", "sandbox")
    assert status.returncode == 0 and A in status.stdout and "lock: free" in status.stdout, status.stderr


def test_setup_is_idempotent(bed: Bed) -> None:
    again = bed.shipyard("deploy.setup", "--env", "sandbox")
    assert again.returncode == 0, again.stderr
    assert "changed" not in again.stdout, again.stdout
    assert "in place: proxy running" in again.stdout and "in place: network shipyard-e2e" in again.stdout


def test_setup_waits_for_a_held_apt_lock_then_succeeds(bed: Bed) -> None:
    """First boot on a droplet: cloud-init or unattended-upgrades hold apt's lock. deploy.setup waits for it (as
    the deploy user, reading /proc/locks), says so, then goes on."""
    import subprocess

    hold = ("import fcntl, sys, time; f = open('/var/lib/dpkg/lock-frontend', 'a'); fcntl.lockf(f, fcntl.LOCK_EX);"
            " print('held', flush=True); time.sleep(4)")
    holder = subprocess.Popen(["docker", "exec", bed.vm.name, "python3", "-c", hold], stdout=subprocess.PIPE,
                              text=True)  # root in the VM, as apt would be
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        started = time.monotonic()
        setup = bed.shipyard("deploy.setup", "--env", "sandbox")
        took = time.monotonic() - started
    finally:
        holder.wait(timeout=30)
    assert setup.returncode == 0, setup.stdout + setup.stderr
    assert "first boot: waited " in setup.stdout
    assert "for the apt/dpkg lock (/var/lib/dpkg/lock-frontend)" in setup.stdout
    assert took >= 2.5, took
    again = bed.shipyard("deploy.setup", "--env", "sandbox")  # nothing held: no wait, nothing said
    assert again.returncode == 0 and "first boot" not in again.stdout, again.stdout


def test_secret_reaches_the_container_and_no_output(bed: Bed, state: HostState, host: Any) -> None:
    dry = bed.shipyard("deploy", "--env", "sandbox", "--sha", B, "--dry-run")
    real = bed.shipyard("deploy", "--env", "sandbox", "--sha", B, "--force")
    assert dry.returncode == 0 and real.returncode == 0, real.stdout + real.stderr
    assert "(secret input, not shown)" in dry.stdout
    for text in (dry.stdout, dry.stderr, real.stdout, real.stderr, host.file(f"{HostState.STATE}/ledger.jsonl")
                 .content_string):
        assert CANARY not in text
    env_file = host.file(f"/var/lib/shipyard/{PROJECT}/env/app.env")
    assert env_file.mode == 0o600 and f"APP_TOKEN={CANARY}" in env_file.content_string
    assert "LOG_LEVEL=info" in env_file.content_string
    live = next(name for name, (st, rel) in state.containers().items() if rel == B)
    assert host.check_output(f"docker exec {live} printenv APP_TOKEN") == CANARY
    assert CANARY not in host.check_output(f"docker history --no-trunc {image(B)}")  # never in an image layer


def test_deploy_without_sha_builds_and_pushes_head(bed: Bed, state: HostState, base_images: dict[str, str]) -> None:
    import subprocess

    def git(*args: str) -> str:
        return subprocess.run(["git", "-c", "user.name=e2e", "-c", "user.email=e2e@example.com", *args],
                              cwd=bed.root, check=True, capture_output=True, text=True).stdout.strip()

    if not (bed.root / ".git").is_dir():
        git("init", "-q")
        git("add", "shipyard.yaml", "app")
        git("commit", "-q", "-m", "fixture project")
    head = git("rev-parse", "HEAD")[:12]
    result = bed.shipyard("deploy", "--env", "sandbox", "--build-arg", f"BASE_IMAGE={base_images['python']}")
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"building {image(head)} for linux/amd64 ..." in result.stdout
    assert f"image {image(head)}: pushing" in result.stdout
    assert f"image {image(head)}: pinned to sha256:" in result.stdout
    state.assert_serving(head)
    again = bed.shipyard("deploy", "--env", "sandbox")  # same commit: image reused, host already converged
    assert again.returncode == 0 and f"image {image(head)}: already in the registry (reused)" in again.stdout
    assert state.ledger()[-1]["outcome"] == "converged"


def test_hosts_run_the_recorded_digest_even_after_the_tag_moves(bed: Bed, state: HostState, host: Any) -> None:
    """Deploys pin each image to the digest the registry held at push time: the host runs `repo@sha256:...`, the
    ledger records it, and a rollback brings back that digest even after the tag was pointed elsewhere."""
    import subprocess

    def docker(*args: str) -> str:
        return subprocess.run(["docker", *args], check=True, capture_output=True, text=True, timeout=600).stdout

    ensure_live(bed, B)
    last = state.ledger()[-1]
    pinned = last["services"]["app"]
    assert last["release"] == B and pinned.startswith(f"{REGISTRY}/{NAMESPACE}/app@sha256:"), last
    names = host.check_output(f"docker ps --filter label=shipyard.project={PROJECT} --filter "
                              "label=shipyard.role=app --format '{{.Names}}'").split()
    running = [host.check_output(f"docker inspect --format '{{{{.Config.Image}}}}' {name}") for name in names]
    assert running == [pinned]  # the container was created from the digest, not from the tag
    ensure_live(bed, A)
    try:  # the tag B now names A's image in the registry, and B is gone from the host
        docker("tag", image(A), image(B))
        docker("push", image(B))
        host.run(f"docker image rm {image(B)} {pinned}")
        result = bed.shipyard("rollback", "--env", "sandbox", "--sha", B)
        assert result.returncode == 0, result.stdout + result.stderr
        label = host.check_output(f"docker ps --filter label=shipyard.project={PROJECT} --filter "
                                  "label=shipyard.role=app --format '{{.Label \"org.shipyard.fixture\"}}'")
        assert label.strip() == B  # B's own image, by its recorded digest, not what the tag says now
        state.assert_serving(B)
    finally:  # put the tag back where the session's images expect it
        docker("pull", pinned)
        docker("tag", pinned, image(B))
        docker("push", image(B))


def test_zz_prune_keeps_retained_live_and_previous(bed: Bed, state: HostState, host: Any) -> None:
    """Runs last: it deletes release tags from the registry (the session fixture pushes them again next time)."""
    import httpx

    for release in (B, C, A):  # live A, previous C; B is older
        ensure_live(bed, release)
    dry = bed.shipyard("deploy.prune", "--env", "retain2", "--dry-run")
    assert dry.returncode == 0, dry.stderr
    assert "would remove: " in dry.stdout and image(B) in dry.stdout and image(A) not in dry.stdout
    assert host.run(f"docker image inspect {image(B)}").rc == 0  # the dry run removed nothing

    pruned = bed.shipyard("deploy.prune", "--env", "retain2")
    assert pruned.returncode == 0, pruned.stdout + pruned.stderr
    for kept in (A, C):
        assert host.run(f"docker image inspect {image(kept)}").rc == 0
    for gone in (B, BROKEN, FLAKY):
        assert host.run(f"docker image inspect {image(gone)}").rc != 0, gone
    tags = set(httpx.get("http://127.0.0.1:5000/v2/e2e/app/tags/list", timeout=10).json().get("tags") or [])
    assert {A, C} <= tags and not tags & {B, BROKEN, FLAKY}, tags
    state.assert_serving(A)
    refused = bed.shipyard("rollback", "--env", "sandbox", "--sha", B)  # pruned everywhere: refused up front
    assert refused.returncode == 1
    assert "is gone from" in refused.stderr and "and from the registry (pruned); nothing was changed" in refused.stderr
    state.assert_serving(A)


def test_the_host_is_shaped_like_a_droplet_deploy_user_and_group_owned_state(bed: Bed, state: HostState,
                                                                           host: Any) -> None:
    """Every deploy above ran as `deploy`; root cannot log in at all; the state and the admin socket belong to
    the group shipyard, never to everyone. A drifted directory is seen by the check and repaired by deploy.setup."""
    import subprocess

    from shipyard.commands.layout import HostLayout

    ensure_live(bed, A)
    assert state.shape_problems() == []
    assert host.check_output("id -u") != "0" and host.check_output("id -un") == "deploy"
    assert host.file(f"{HostState.STATE}/env/app.env").user == "deploy"
    base = ["ssh", "-i", bed.state.key, "-p", str(bed.vm.ssh_port), "-o", f"UserKnownHostsFile={bed.state.known_hosts}",
            "-o", "StrictHostKeyChecking=yes", "-o", "IdentitiesOnly=yes", "-o", "BatchMode=yes"]
    root = subprocess.run([*base, "root@127.0.0.1", "id -u"], capture_output=True, text=True, timeout=60)
    assert root.returncode == 255 and "Permission denied" in root.stderr, root  # the same key, refused for root
    deploy = subprocess.run([*base, "deploy@127.0.0.1", "id -u"], capture_output=True, text=True, timeout=60)
    assert deploy.returncode == 0 and deploy.stdout.strip() != "0", deploy  # ... and accepted for deploy

    layout = HostLayout(PROJECT)
    host.check_output(f"chmod 2777 {layout.proxy_run_dir} && chgrp deploy {layout.env_dir}")  # drift
    problems = state.shape_problems()
    assert len(problems) == 2 and layout.proxy_run_dir in problems[0] and layout.env_dir in problems[1], problems
    repaired = bed.shipyard("deploy.setup", "--env", "sandbox")
    assert repaired.returncode == 0, repaired.stdout + repaired.stderr
    assert f"state directory {layout.state_dir} (group" in repaired.stdout, repaired.stdout
    assert state.shape_problems() == []
    state.assert_serving(A)
