"""The reference monorepo (api + web) with PostgreSQL and Redis accessories, deployed to a 3-VM sandbox through
the real CLI: real SSH, the real registry, real HAProxy, images built from this repository.

One module-scoped sandbox; the tests run in order: release A from nothing, an item written through the web form,
release B and a rollback to A under strict keep-alive load on every host (zero failed requests, only A or B may
answer), data kept across both and across an accessory restart, host state read with testinfra, and a deploy
that stops in seconds, before any build, when a secret or a required variable is missing.
"""

from __future__ import annotations

import os
import re
import ssl
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "integration"))
from docker_stack import REPO, copy_repo, git

from shipyard.sandbox.load import LoadGenerator, LoadReport

pytestmark = [pytest.mark.e2e, pytest.mark.slow, pytest.mark.docker]

INVOKE = str(Path(sys.executable).parent / "invoke")
PROJECT = "shipyard-ref"
HOSTS = 3  # the accessories run on host 1; hosts 2 and 3 reach them over the "private network"
FOOTER_RE = re.compile(r"web (?:<!-- -->)?([0-9a-f]{12,40})")


def footer_release(body: str) -> str:
    """The release a page was rendered by: the full SHA in its footer ('' when it has none)."""
    match = FOOTER_RE.search(body)
    return match.group(1) if match else ""


@dataclass
class Ref:
    root: Path
    env: dict[str, str]
    canary: str
    outputs: list[str]
    vms: list[Any]  # shipyard.sandbox.vms.SandboxVm

    def invoke(self, *args: str, env: dict[str, str] | None = None, check: bool = True,
               timeout: float = 1800) -> subprocess.CompletedProcess[str]:
        proc = subprocess.run([INVOKE, "-r", str(REPO), *args], cwd=self.root, env=env or self.env,
                              capture_output=True, text=True, timeout=timeout, stdin=subprocess.DEVNULL)
        self.outputs += [proc.stdout, proc.stderr]
        if check and proc.returncode != 0:
            raise AssertionError(f"invoke {' '.join(args)} exited {proc.returncode}:\n{proc.stdout[-4000:]}\n"
                                 f"{proc.stderr[-2000:]}")
        return proc

    def commit(self, message: str) -> str:
        git(self.root, "-c", "user.email=test@example.invalid", "-c", "user.name=test", "commit", "-q",
            "--allow-empty", "-m", message)
        return git(self.root, "rev-parse", "HEAD").strip()[:12]  # the release tag: the version the app reports

    def url(self, index: int, path: str = "/") -> str:
        return f"http://127.0.0.1:{self.vms[index].http_port}{path}"

    def items(self, index: int) -> list[str]:
        html = httpx.get(self.url(index), timeout=30).text
        return re.findall(r"<li data-item-id=\"\d+\">([^<]*)</li>", html)


@pytest.fixture(scope="module")
def ref(tmp_path_factory: pytest.TempPathFactory, base_images: dict[str, str], registry: str) -> Iterator[Ref]:
    from shipyard.sandbox import vms

    root = copy_repo(tmp_path_factory.mktemp("ref") / "repo")
    config = root / "shipyard.yaml"
    config.write_text(config.read_text().replace("project: shipyard-demo", f"project: {PROJECT}", 1))
    git(root, "add", "-A")
    canary = f"canary-pg-{uuid.uuid4().hex[:12]}"
    env = {**{k: v for k, v in os.environ.items() if k != "SHIPYARD_CONFIG"}, "POSTGRES_PASSWORD": canary,
           "PYTHON_IMAGE": base_images["python"], "NODE_IMAGE": base_images["node"], "COLUMNS": "200"}
    stack = Ref(root, env, canary, [], [])
    stack.commit("release A")
    try:
        stack.invoke("sandbox.up", "--hosts", str(HOSTS), "--health-timeout", "120")
        state = vms.SandboxState.load(root)
        assert state is not None and len(state.vms) == HOSTS
        stack.vms = state.vms
        yield stack
    finally:
        vms.down(root, PROJECT, printer=lambda _line: None)


def ca_file() -> str:
    from shipyard.sandbox import tls

    return str(tls.folder(PROJECT) / "ca.pem")


def loads(stack: Ref, releases: set[str]) -> list[LoadGenerator]:
    """Strict client groups on every host's proxy, over HTTP and over HTTPS (trusting only the sandbox CA), on
    the web page (which reads the items through the api). 1 req/s per group on 3 keep-alive connections, 6 in
    all: each answer is a server render by Next.js plus an api call and a query, and the three VMs' renders share
    this machine's two CPUs with the deploy's own work. At 5 and then 3 req/s per group on 2 connections, single
    answers took 0.4 to 5.7 s (none failed) and the clients fell up to 41 s behind their schedule on a slower CI
    machine; a request still unsent at the end counts as a failure. Every connection stays open across the whole
    deploy or rollback, which is what the switch must not break."""
    return [LoadGenerator(port, releases=releases, path="/", identify=footer_release, clients=3, rate=1,
                          max_seconds=900, timeout=15, ca_file=ca)
            for vm in stack.vms for port, ca in ((vm.http_port, None), (vm.https_port, ca_file()))]


def under_load(stack: Ref, releases: set[str], *args: str) -> list[LoadReport]:
    with ExitStack() as stack_of_loads:
        generators = [stack_of_loads.enter_context(load) for load in loads(stack, releases)]
        time.sleep(2)  # traffic flows before the deploy starts
        stack.invoke(*args)
        time.sleep(2)
        reports = [load.stop() for load in generators]
    names = [f"{vm.name} {scheme}" for vm in stack.vms for scheme in ("http", "https")]
    for name, report in zip(names, reports, strict=True):
        print(f"{' '.join(args)} | {name}: {report.summary()}")  # the figures docs/DEPLOY.md quotes
    return reports


def assert_clean(reports: list[LoadReport], must_see: str) -> None:
    for report in reports:
        assert report.total > 15, report.summary()
        assert report.failed == 0, report.summary()
        assert report.reopened == 0, report.summary()
        assert report.releases[must_see] > 0, report.summary()


def test_release_a_from_nothing_serves_the_stack_on_every_host(ref: Ref) -> None:
    release_a = git(ref.root, "rev-parse", "HEAD").strip()[:12]  # the release tag: the version the app reports
    out = ref.invoke("deploy", "--env", "sandbox").stdout
    assert "accessory postgres" in out and "accessory redis" in out
    for index in range(HOSTS):
        assert footer_release(httpx.get(ref.url(index), timeout=30).text) == release_a
    # an item written through the web form on host 1 is read back through hosts 2 and 3 (their apis use host 1's
    # database)
    created = httpx.post(ref.url(0, "/api/items"), data={"name": "kept-across-releases"}, timeout=30)
    assert created.status_code == 303
    assert all("kept-across-releases" in ref.items(index) for index in range(1, HOSTS))
    for index in range(HOSTS):  # one public port: /api/v1/... is the api (as the Ingress routes it), the rest is web
        api = httpx.get(ref.url(index, "/api/v1/health"), timeout=30).json()
        assert api["services"] == {"database": "connected", "redis": "connected"} and api["version"] == release_a
        assert httpx.get(ref.url(index, "/api/health"), timeout=30).json()["service"] == "shipyard-web"
        items = httpx.get(ref.url(index, "/api/v1/items"), timeout=30).json()
        assert "kept-across-releases" in [item["name"] for item in items["items"]]
    for vm in ref.vms:  # HTTPS at every host's proxy, with the sandbox CA's certificate, and HSTS
        secure = httpx.get(f"https://127.0.0.1:{vm.https_port}/", verify=ssl.create_default_context(cafile=ca_file()),
                           timeout=30)
        assert footer_release(secure.text) == release_a
        assert secure.headers["strict-transport-security"] == "max-age=31536000"
        assert "strict-transport-security" not in httpx.get(ref.url(0), timeout=30).headers  # not on plain HTTP
    status = ref.invoke("deploy.accessories.status", "--env", "sandbox").stdout
    assert status.count("running") == 2 and status.count("health healthy") == 2


def test_release_b_then_rollback_to_a_under_load_drop_nothing(ref: Ref) -> None:
    release_a = git(ref.root, "rev-parse", "HEAD").strip()[:12]  # the release tag: the version the app reports
    release_b = ref.commit("release B")  # only the version stamp differs: the build reuses every other layer
    reports = under_load(ref, {release_a, release_b}, "deploy", "--env", "sandbox")
    assert_clean(reports, release_b)
    assert all(footer_release(httpx.get(ref.url(i), timeout=30).text) == release_b for i in range(HOSTS))
    assert "kept-across-releases" in ref.items(0)

    reports = under_load(ref, {release_a, release_b}, "rollback", "--env", "sandbox", "--sha", release_a)
    assert_clean(reports, release_a)
    assert all(footer_release(httpx.get(ref.url(i), timeout=30).text) == release_a for i in range(HOSTS))
    assert "kept-across-releases" in ref.items(1)


def test_a_failing_migration_stops_the_deploy_before_any_host_switches(ref: Ref) -> None:
    live = footer_release(httpx.get(ref.url(0), timeout=30).text)
    assert live and all(footer_release(httpx.get(ref.url(i), timeout=30).text) == live for i in range(1, HOSTS))
    broken = ref.root / "apps/api/app/migrations/0099_broken.sql"
    broken.write_text("ALTER TABLE no_such_table ADD COLUMN nope integer;\n")
    git(ref.root, "add", "-A")
    ref.commit("release with a broken migration")
    proc = ref.invoke("deploy", "--env", "sandbox", check=False)
    assert proc.returncode == 1, proc.stdout[-3000:]
    assert "release command of api" in proc.stdout + proc.stderr
    assert "no_such_table" in proc.stdout + proc.stderr  # the migration's own output is shown
    assert "aborted" in proc.stdout + proc.stderr
    # no host started, let alone switched to, the new release: the live one keeps serving with its data
    assert all(footer_release(httpx.get(ref.url(i), timeout=30).text) == live for i in range(HOSTS))
    assert "kept-across-releases" in ref.items(0)
    broken.unlink()
    git(ref.root, "add", "-A")
    ref.commit("drop the broken migration")


def test_data_survives_an_accessory_restart(ref: Ref) -> None:
    ref.invoke("deploy.accessories.restart", "--env", "sandbox", "--name", "postgres")
    deadline = time.monotonic() + 60
    while True:  # the api reconnects to the restarted database by itself
        try:
            if "kept-across-releases" in ref.items(0):
                break
        except httpx.HTTPError:
            pass
        assert time.monotonic() < deadline, "the item is not listed within 60s of the database's restart"
        time.sleep(1)


def test_operating_the_release_logs_exec_and_a_database_dump(ref: Ref) -> None:
    migrate = ref.invoke("deploy.exec", "--env", "sandbox", "--service", "api", "--command", "python -m app migrate")
    assert migrate.stdout.strip().splitlines()[-1] == "migrate: schema up to date"
    logs = ref.invoke("deploy.logs", "--env", "sandbox", "--service", "api", "--tail", "5").stdout
    assert all(f"[{vm.name}]" in logs for vm in ref.vms)
    dump = ref.invoke("deploy.accessories.exec", "--env", "sandbox", "--name", "postgres", "--command",
                      "pg_dump --data-only -U shipyard shipyard").stdout
    assert "kept-across-releases" in dump  # the data, out through the CLI, ready to restore with psql
    failing = ref.invoke("deploy.exec", "--env", "sandbox", "--service", "api", "--command", "exit 3", check=False)
    assert failing.returncode == 3


def test_host_state_with_testinfra(ref: Ref) -> None:
    import testinfra

    first = testinfra.get_host(f"docker://{ref.vms[0].name}")
    state = f"/var/lib/shipyard/{PROJECT}"
    for path in (f"{state}/env/accessory-postgres.env", f"{state}/env/api.env"):
        env_file = first.file(path)
        assert env_file.exists and env_file.mode == 0o600, path
    volumes = first.check_output("docker volume ls --format '{{.Name}}'").split()
    assert f"{PROJECT}_pgdata" in volumes and f"{PROJECT}_redisdata" in volumes
    log = first.check_output(f"docker inspect --format '{{{{json .HostConfig.LogConfig}}}}' {PROJECT}-postgres")
    assert '"max-size":"10m"' in log
    published = first.check_output(f"docker port {PROJECT}-postgres")
    assert published.strip().startswith(f"5432/tcp -> {ref.vms[0].private_address}:5432"), published
    # droplet-shaped: deployed by the non-root `deploy` user, logged in to the private registry in a folder only
    # it reads, no credential in any process's command line, every app container created from a digest
    from shipyard.sandbox.registry import password_file

    password = password_file(PROJECT).read_text().strip()
    assert password and password not in first.check_output("ps -eo args")
    assert first.file(f"{state}/ledger.jsonl").user == "deploy"
    docker_config = first.file(f"{state}/docker")
    assert docker_config.user == "deploy" and docker_config.mode & 0o077 == 0, oct(docker_config.mode)
    assert first.file(f"{state}/docker/config.json").mode == 0o600
    names = first.check_output(f"docker ps --filter label=shipyard.project={PROJECT} --filter label=shipyard.role=app"
                               " --format '{{.Names}}'").split()
    assert len(names) == 2  # api and web, one live colour each
    for name in names:
        assert "@sha256:" in first.check_output(f"docker inspect --format '{{{{.Config.Image}}}}' {name}"), name
    for vm in ref.vms[1:]:  # never on the other hosts
        other = testinfra.get_host(f"docker://{vm.name}")
        assert f"{PROJECT}-postgres" not in other.check_output("docker ps --format '{{.Names}}'")


def test_a_missing_secret_stops_the_deploy_before_any_build(ref: Ref) -> None:
    env = {k: v for k, v in ref.env.items() if k != "POSTGRES_PASSWORD"}
    ref.commit("release C, never built")
    started = time.monotonic()
    proc = ref.invoke("deploy", "--env", "sandbox", env=env, check=False)
    took = time.monotonic() - started
    assert proc.returncode == 1
    error = proc.stderr.strip()
    assert len(error.splitlines()) == 1 and "secret POSTGRES_PASSWORD" in error, error
    assert "building" not in proc.stdout and "pushing" not in proc.stdout, proc.stdout
    print(f"a deploy with a missing secret failed in {took:.2f}s")  # the figure docs/DEPLOY.md quotes
    assert took < 5


def test_a_missing_required_variable_stops_the_deploy_before_any_build(ref: Ref) -> None:
    config = ref.root / "shipyard.yaml"
    original = config.read_text()
    line = "      REDIS_URL: redis://${accessories.redis.host}:${accessories.redis.port}/0\n"
    assert line in original
    config.write_text(original.replace(line, "", 1))
    try:
        started = time.monotonic()
        proc = ref.invoke("deploy", "--env", "sandbox", "--allow-dirty", check=False)
        took = time.monotonic() - started
    finally:
        config.write_text(original)
    assert proc.returncode == 1
    error = proc.stderr.strip()
    assert len(error.splitlines()) == 1 and "service api requires REDIS_URL" in error, error
    assert "building" not in proc.stdout and "pushing" not in proc.stdout, proc.stdout
    print(f"a deploy with a missing required variable failed in {took:.2f}s")
    assert took < 5


def test_a_restarted_vm_comes_back_serving_the_live_release_with_its_data(ref: Ref) -> None:
    live = footer_release(httpx.get(ref.url(0), timeout=30).text)
    first = ref.vms[0].name  # it also runs the database and the cache
    subprocess.run(["docker", "restart", first], check=True, capture_output=True, timeout=300)
    port = subprocess.run(["docker", "port", first, "80/tcp"], check=True, capture_output=True, text=True,
                          timeout=30).stdout.split(":")[-1].strip()
    deadline = time.monotonic() + 180
    while True:  # nothing is run by hand: Docker restarts the proxy, the live colour and the accessories
        try:
            page = httpx.get(f"http://127.0.0.1:{port}/", timeout=10).text
            if footer_release(page) == live and "kept-across-releases" in page:
                break
        except httpx.HTTPError:
            pass
        assert time.monotonic() < deadline, "the restarted VM does not serve the live release within 180s"
        time.sleep(2)
    assert "kept-across-releases" in ref.items(1)  # the other host reaches the restarted database again


def test_the_canary_password_reached_no_output(ref: Ref) -> None:
    """Neither the database password nor the private registry's appears in any output of any command run."""
    from shipyard.sandbox.registry import password_file

    registry_password = password_file(PROJECT).read_text().strip()
    assert ref.outputs, "nothing was run"
    for text in ref.outputs:
        assert ref.canary not in text and registry_password not in text
