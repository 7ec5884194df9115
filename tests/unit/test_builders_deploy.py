"""The deploy builders: exact argv, a valid HAProxy config, and the lock script run for real with sh."""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from pathlib import Path

import pytest

from shipyard.commands import docker, haproxy, hoststate, proxy
from shipyard.commands.layout import HostLayout
from shipyard.commands.programs import program
from shipyard.config import load
from shipyard.facts.lock import Lease, parse_lease
from tools import need_tool

ROOT = Path(__file__).resolve().parents[2]
LAYOUT = HostLayout("demo")


def test_proxy_container_argv() -> None:
    argv = proxy.run(LAYOUT, "haproxy:2.8", bind="0.0.0.0", http_port=80, aliases=["web", "api"])
    assert argv == [
        "docker", "run", "--detach", "--name", "demo-proxy", "--network", "demo",
        "--network-alias", "api", "--network-alias", "web", "--restart", "unless-stopped",
        "--log-driver", "json-file", "--log-opt", "max-size=10m", "--log-opt", "max-file=5", "--user", "0:0",
        "--cap-drop", "ALL", "--cap-add", "NET_BIND_SERVICE", "--publish", "0.0.0.0:80:80",
        "--volume", "/var/lib/shipyard/demo/proxy/conf:/usr/local/etc/haproxy:ro",
        "--volume", "/var/lib/shipyard/demo/proxy/run:/var/run/shipyard",
        "--label", "shipyard.project=demo", "--label", "shipyard.role=proxy",
        "haproxy:2.8", "haproxy", "-f", "/usr/local/etc/haproxy/haproxy.cfg"]
    assert proxy.publish("::1", 8080) == "[::1]:8080:80"
    assert proxy.reload(LAYOUT) == ["docker", "kill", "--signal", "HUP", "demo-proxy"]


def test_runtime_commands() -> None:
    assert haproxy.admin(LAYOUT) == ["python3", "-I", "-S", "-c", program("haproxy_admin.py"),
                                     "/var/lib/shipyard/demo/proxy/run/admin.sock"]
    assert haproxy.switch("api", "green", "blue") == (
        "set server api/green state ready; set server api/blue-standby state ready; set server api/blue state maint\n")
    assert haproxy.switch_back("api", "blue", "green") == (
        "set server api/blue state ready; set server api/blue-standby state maint; set server api/green state drain\n")
    assert haproxy.isolate("api", "green") == (
        "set server api/green state maint; set server api/green-standby state maint\n")
    assert haproxy.switch("api", "blue", None) == "set server api/blue state ready\n"


def test_rendered_reference_config_is_in_sync_and_valid(tmp_path: Path) -> None:
    config = load(ROOT / "shipyard.yaml")
    services = config.services()
    backends = [haproxy.Backend(n, s.port, s.health.readiness, "blue" if n == "web" else None, s.route)
                for n, s in services.items()]
    text = haproxy.render_config(HostLayout(config.project.project), backends, "web")
    reference = ROOT / "docker" / "proxy" / "haproxy.cfg"
    assert reference.read_text() == text, "docker/proxy/haproxy.cfg is stale: run scripts/render_proxy_config.py"
    need_tool("haproxy")  # the rendered config is checked by haproxy -c itself
    local = tmp_path / "haproxy.cfg"
    local.write_text(text.replace(haproxy.CONTAINER_SOCKET_DIR, str(tmp_path)))
    result = subprocess.run(["haproxy", "-c", "-f", str(local)], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize(("backends", "public"), [
    ([haproxy.Backend("a", 80, "/r")], None),
    ([haproxy.Backend("a", 8000, "/r"), haproxy.Backend("b", 8000, "/r")], None),
    ([haproxy.Backend("a", 8000, "/r")], "b"),
])
def test_render_refuses_bad_backends(backends: list[haproxy.Backend], public: str | None) -> None:
    with pytest.raises(ValueError):
        haproxy.render_config(LAYOUT, backends, public)


def test_registry_login_argv_keeps_the_password_on_stdin() -> None:
    config = "/var/lib/shipyard/demo/docker"
    assert docker.login("reg.example:5443", "ci", config) == [
        "docker", "--config", config, "login", "--username", "ci", "--password-stdin", "reg.example:5443"]
    assert docker.pull("reg.example/a/api:abc", config=config) == [
        "docker", "--config", config, "pull", "reg.example/a/api:abc"]
    assert docker.push("reg.example/a/api:abc") == ["docker", "push", "reg.example/a/api:abc"]
    assert LAYOUT.docker_config == f"{LAYOUT.state_dir}/docker"


def _lock(tmp: Path, mode: str, expect: str = "", lease: Lease | None = None) -> subprocess.CompletedProcess[str]:
    argv = hoststate.lock(HostLayout("demo", root=str(tmp)), mode, expect)
    return subprocess.run(["dash" if shutil.which("dash") else "sh", *argv[1:]], input=lease.to_json() if lease else "",
                          capture_output=True, text=True)


def test_lock_script_is_a_compare_and_swap(tmp_path: Path) -> None:
    mine = Lease("mine", "ana@l", "l", 1, "deploy", 0.0, 10.0)
    theirs = Lease("theirs", "bo@c", "c", 2, "deploy", 0.0, 10.0)
    lock_file = tmp_path / "demo" / "lock.json"
    assert _lock(tmp_path, "acquire", lease=mine).returncode == 0
    assert lock_file.read_text() == mine.to_json()
    refused = _lock(tmp_path, "acquire", lease=theirs)
    assert refused.returncode == hoststate.LOCK_HELD and '"id": "mine"' in refused.stdout
    assert _lock(tmp_path, "replace", "someone-else", lease=theirs).returncode == hoststate.LOCK_HELD
    assert _lock(tmp_path, "release", "theirs").returncode == hoststate.LOCK_HELD and lock_file.exists()
    assert _lock(tmp_path, "replace", "mine", lease=theirs).returncode == 0  # takeover of an expired lease
    assert lock_file.read_text() == theirs.to_json()
    assert _lock(tmp_path, "release", "theirs").returncode == 0 and not lock_file.exists()
    assert _lock(tmp_path, "acquire", lease=mine).returncode == 0
    broken = _lock(tmp_path, "break")
    assert broken.returncode == 0 and '"id": "mine"' in broken.stdout and not lock_file.exists()


def test_lock_script_reports_the_leases_age_by_the_hosts_clock(tmp_path: Path) -> None:
    """Every answer with a lease ends in `age=<seconds since lock.json was last written>`; a renewal (replace)
    rewrites the file, so the age starts again. `read` answers the same way and changes nothing."""
    mine = Lease("mine", "ana@l", "l", 1, "deploy", 0.0, 10.0, ttl=120.0)
    lock_file = tmp_path / "demo" / "lock.json"
    assert _lock(tmp_path, "read").stdout == "" and not (tmp_path / "demo").exists()  # read creates nothing
    assert _lock(tmp_path, "acquire", lease=mine).returncode == 0
    written = time.time() - 300
    os.utime(lock_file, (written, written))  # last renewed five minutes ago, by this (the host's) clock
    refused = _lock(tmp_path, "acquire", lease=mine)
    assert refused.returncode == hoststate.LOCK_HELD
    lines = refused.stdout.splitlines()
    assert lines[0] == mine.to_json() and lines[-1].startswith("age=") and 299 <= int(lines[-1][4:]) <= 302
    seen = parse_lease(refused.stdout)
    assert seen is not None and seen.id == "mine" and seen.expired(0.0)  # 300s > ttl, whatever our clock says
    read = _lock(tmp_path, "read")
    assert read.returncode == 0 and parse_lease(read.stdout) == seen
    assert subprocess.run(hoststate.read_lock(HostLayout("demo", root=str(tmp_path))), capture_output=True,
                          text=True).stdout == read.stdout
    assert _lock(tmp_path, "replace", "mine", lease=mine).returncode == 0  # a renewal
    renewed = parse_lease(_lock(tmp_path, "read").stdout)
    assert renewed is not None and renewed.age is not None and renewed.age <= 2 and not renewed.expired(1e12)
    assert _lock(tmp_path, "release", "someone-else").stdout.splitlines()[-1].startswith("age=")


def test_write_and_append_scripts(tmp_path: Path) -> None:
    target = tmp_path / "a" / "b.cfg"
    argv = hoststate.write_file(str(target), "077")
    subprocess.run(argv, input="one\n", text=True, check=True)
    assert target.read_text() == "one\n" and oct(target.stat().st_mode & 0o777) == "0o600"
    layout = HostLayout("demo", root=str(tmp_path))
    for line in ('{"a":1}\n', '{"a":2}\n'):
        subprocess.run(hoststate.append_ledger(layout), input=line, text=True, check=True)
    out = subprocess.run(hoststate.read_ledger(layout, last=1), capture_output=True, text=True, check=True)
    assert out.stdout == '{"a":2}\n'
    missing = subprocess.run(hoststate.read_file(str(tmp_path / "nope")), capture_output=True, text=True)
    assert missing.returncode == 0 and missing.stdout == ""


def test_ledger_append_never_tears_a_line(tmp_path: Path) -> None:
    """A deployer killed mid-send leaves an input without its newline: nothing is appended, so the ledger still
    parses line by line; two lines in one append are refused too (one entry, one atomic write)."""
    layout = HostLayout("demo", root=str(tmp_path))
    for line, ok in (('{"a":1}\n', True), ('{"a":2', False), ('{"a":3}\n{"a":4}\n', False), ('{"a":5}\n', True)):
        result = subprocess.run(hoststate.append_ledger(layout), input=line, text=True, capture_output=True)
        assert (result.returncode == 0) is ok, result.stderr
    assert Path(layout.ledger).read_text() == '{"a":1}\n{"a":5}\n'


def test_gather_script_sections(tmp_path: Path) -> None:
    """The one-round-trip facts script, run for real with sh (docker answers or not: sections stay apart)."""
    from shipyard.commands import hostfacts
    from shipyard.facts import sections

    layout = HostLayout("nothing-here", root=str(tmp_path))
    Path(layout.proxy_conf_dir).mkdir(parents=True)
    Path(layout.proxy_config).write_text("backend app\n    server blue x:1\n")
    out = subprocess.run(hostfacts.gather(layout, ["no-such/image:tag"]), capture_output=True, text=True,
                         check=True).stdout
    parts = sections.split(out)
    assert set(parts) == {"ps", "config", "servers", "images"}
    assert parts["ps"] == "" and parts["servers"] == ""
    assert parts["config"] == "backend app\n    server blue x:1\n"
    assert sections.image_presence(parts["images"]) == {"no-such/image:tag": False}
    recorded = "@@shipyard:ps@@\n{}\n@@shipyard:images@@\nyes r/a:1\nno r/b:2\n"
    assert sections.split(recorded) == {"ps": "{}\n", "images": "yes r/a:1\nno r/b:2\n"}


def test_a_routed_service_shares_the_public_port_by_path_prefix() -> None:
    backends = [haproxy.Backend("web", 3000, "/api/health"), haproxy.Backend("api", 8000, "/ready", route="/api/v1"),
                haproxy.Backend("admin", 9000, "/ready", route="/api/v1/admin")]
    text = haproxy.render_config(LAYOUT, backends, "web")
    public = text.split("frontend public\n", 1)[1].split("\n\n", 1)[0].splitlines()
    assert public == ["    bind :80",
                      "    use_backend admin if { path /api/v1/admin } || { path_beg /api/v1/admin/ }",
                      "    use_backend api if { path /api/v1 } || { path_beg /api/v1/ }",
                      "    default_backend web"]  # the longest prefix wins; web keeps its own /api/items
    with pytest.raises(ValueError, match="a route needs a public service"):
        haproxy.render_config(LAYOUT, backends, None)


def test_the_load_balancers_health_check_is_a_path_the_public_service_answers() -> None:
    variables = (ROOT / "terraform/modules/loadbalancer/variables.tf").read_text()
    block = variables.split('variable "health_check_path"', 1)[1]
    default = block.split("default", 1)[1].split('"')[1]
    config = load(ROOT / "shipyard.yaml")
    public = next(s for s in config.services().values() if s.public)
    assert default == public.health.readiness  # through the proxy's public port, what web answers


def test_host_apt_waits_for_cloud_init_and_the_lock() -> None:
    argv = hoststate.apt_install(["docker.io"])
    assert argv[0:2] == ["sh", "-c"] and argv[3:] == ["shipyard-apt", "docker.io"]
    script = argv[2]
    assert script.index("cloud-init status --wait") < script.index("apt-get")
    assert script.count("DPkg::Lock::Timeout=600") == 2  # update and install both wait for the lock


def test_tls_at_the_proxy_renders_https_redirect_and_hsts(tmp_path: Path) -> None:
    backends = [haproxy.Backend("web", 3000, "/api/health", "blue"), haproxy.Backend("api", 8000, "/ready")]
    text = haproxy.render_config(LAYOUT, backends, "web", haproxy.Tls(redirect=True, hsts=True))
    public = text.split("frontend public\n", 1)[1].split("\n\n", 1)[0].splitlines()
    assert public[:4] == ["    bind :80", "    bind :443 ssl crt /etc/shipyard/tls/site.pem",
                          "    http-request redirect scheme https code 301 unless { ssl_fc }",
                          '    http-response set-header Strict-Transport-Security "max-age=31536000" if { ssl_fc }']
    plain = haproxy.render_config(LAYOUT, backends, "web", haproxy.Tls(redirect=False, hsts=False))
    assert "redirect" not in plain and "Strict-Transport-Security" not in plain and "ssl crt" in plain
    assert "ssl" not in haproxy.render_config(LAYOUT, backends, "web")
    need_tool("haproxy")  # haproxy itself accepts it, with a real certificate in place
    from shipyard.sandbox import tls

    certs = tls.ensure("demo", tmp_path)
    (tmp_path / "site.pem").write_text(certs.cert.read_text() + certs.key.read_text())
    local = tmp_path / "haproxy.cfg"
    local.write_text(text.replace(haproxy.CONTAINER_SOCKET_DIR, str(tmp_path))
                     .replace(haproxy.CONTAINER_TLS_DIR, str(tmp_path)))
    result = subprocess.run(["haproxy", "-c", "-f", str(local)], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr


def test_proxy_container_with_tls_publishes_https_and_mounts_the_certificate_read_only() -> None:
    argv = proxy.run(LAYOUT, "haproxy:2.8", bind="0.0.0.0", http_port=80, aliases=["web"], https_port=8443)
    assert argv[argv.index("--publish", argv.index("--publish") + 1) + 1] == "0.0.0.0:8443:443"
    assert "/var/lib/shipyard/demo/proxy/tls:/etc/shipyard/tls:ro" in argv
    assert hoststate.file_sha256_mode("/x/site.pem")[-1] == "/x/site.pem"  # compared by hash, never read back


def test_images_by_digest_pull_then_tag_locally() -> None:
    from shipyard import imageref
    from shipyard.commands import docker as docker_cmd

    ref = "127.0.0.1:5000/e2e/app:aaaa1111aaaa"
    digest = "sha256:" + "ab" * 32
    pinned = imageref.pinned(ref, digest)
    assert pinned == f"127.0.0.1:5000/e2e/app@{digest}"
    argv = docker_cmd.pull_pinned(pinned, "aaaa1111aaaa", config="/var/lib/shipyard/demo/docker")
    assert argv[:3] == ["sh", "-c", 'set -e; ref=$1; tagged=$2; shift 2; "$@" "$ref"; docker tag "$ref" "$tagged"']
    assert argv[3:] == ["shipyard-pull", pinned, "127.0.0.1:5000/e2e/app:aaaa1111aaaa", "docker", "--config",
                        "/var/lib/shipyard/demo/docker", "pull"]
    assert docker_cmd.pull_pinned(ref, "aaaa1111aaaa") == ["docker", "pull", ref]  # a tag (dry run, old ledgers)


def test_pull_then_tag_script_runs(tmp_path: Path) -> None:
    """The script with a stand-in `docker` on PATH: pull by digest, then the tag, in that order, stopping on error."""
    from shipyard.commands import docker as docker_cmd

    fake = tmp_path / "docker"
    log = tmp_path / "calls"
    fake.write_text(f'#!/bin/sh\necho "$@" >> {log}\n[ "$1" != fail ]\n')
    fake.chmod(0o755)
    env = {"PATH": f"{tmp_path}:/usr/bin:/bin"}
    argv = docker_cmd.pull_pinned("r/app@sha256:1", "t1")
    subprocess.run(argv, env=env, check=True)
    assert log.read_text().splitlines() == ["pull r/app@sha256:1", "tag r/app@sha256:1 r/app:t1"]
    failing = [*argv[:-2], "docker", "fail"]  # the pull fails: no tag after it
    assert subprocess.run(failing, env=env).returncode != 0
    assert log.read_text().splitlines()[-1] == "fail r/app@sha256:1"


def test_first_boot_wait_script_runs_and_is_bounded(tmp_path: Path) -> None:
    """Nothing to wait for: silent and immediate. (Waiting on a held lock is run on a VM in test_deploy_e2e.)"""
    result = subprocess.run(hoststate.first_boot_wait(5), capture_output=True, text=True, timeout=30)
    assert result.returncode == 0 and result.stdout == "", result.stdout + result.stderr
    assert hoststate.first_boot_wait(7)[-1] == "7"
