"""host-setup.sh (the droplets' cloud-init and the sandbox's one host setup) on a real VM: sshd + its own dockerd.

Each check is seen failing first: root logs in before the script runs, and state left by a root deploy is root's.
"""

from __future__ import annotations

import dataclasses
import subprocess
import time
from typing import Any

import pytest

from shipyard.sandbox import hostsetup
from shipyard.testbed import vm as testbed_vm

pytestmark = pytest.mark.ssh


def ssh(machine: Any, user: str, command: str) -> subprocess.CompletedProcess[str]:
    argv = dataclasses.replace(machine, user=user).ssh_argv()
    return subprocess.run([*argv[:-1], "-o", "BatchMode=yes", "-o", "ConnectTimeout=10", argv[-1], command],
                          capture_output=True, text=True, timeout=60)


def as_root(machine: Any, command: str) -> str:
    """What root sees inside the VM (docker exec: the way cloud-init and the sandbox act as root)."""
    return subprocess.run(["docker", "exec", machine.name, "sh", "-c", command], capture_output=True, text=True,
                          timeout=60, check=True).stdout.strip()


def wait_for_ssh(machine: Any, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while not testbed_vm._ssh_banner(machine.address, machine.port):
        assert time.monotonic() < deadline, "sshd did not come back"
        time.sleep(0.1)


def test_the_script_is_shellcheck_clean() -> None:
    from shipyard.infra import tools

    shellcheck = tools.python_tool("shellcheck")
    assert hostsetup.SCRIPT.is_symlink() and hostsetup.SCRIPT.resolve().name == "host-setup.sh"
    result = subprocess.run([shellcheck, "-s", "sh", str(hostsetup.SCRIPT.resolve())], capture_output=True,
                            text=True, timeout=60)
    assert result.returncode == 0, result.stdout
    bad = subprocess.run([shellcheck, "-s", "sh", "-"], input="#!/bin/sh\nrm -rf $1/*\n", capture_output=True,
                         text=True, timeout=60)
    assert bad.returncode != 0  # the gate is not vacuous


def test_a_deploy_host_no_root_login_and_a_second_run_changes_nothing(vm_factory: Any) -> None:
    machine = vm_factory(docker=True)
    host = testbed_vm.host_for()
    assert ssh(machine, "root", "id -u").stdout.strip() == "0"  # before: the test bed VM takes root logins
    assert ssh(machine, "deploy", "true").returncode == 255

    first = hostsetup.prepare(host, machine.name)
    assert "host-setup: created user deploy" in first and "host-setup: reloaded sshd: root cannot log in, " \
        "passwords are refused" in first, first
    wait_for_ssh(machine)

    denied = ssh(machine, "root", "id -u")
    assert denied.returncode == 255 and "Permission denied" in denied.stderr, denied
    deploy = ssh(machine, "deploy", "id -un; id -u; id -nG; docker info --format '{{.ServerVersion}}'; "
                                    "stat -c '%U:%G %a' /var/lib/shipyard ~/.ssh ~/.ssh/authorized_keys")
    assert deploy.returncode == 0, deploy.stderr
    name, uid, groups, engine, *modes = deploy.stdout.splitlines()
    assert name == "deploy" and uid != "0" and {"docker", "shipyard"} <= set(groups.split()) and engine
    assert modes == ["deploy:shipyard 2750", "deploy:deploy 700", "deploy:deploy 600"]
    assert as_root(machine, "getent shadow deploy | cut -d: -f2") == "*"  # no password, not a locked account
    assert as_root(machine, "sshd -T -C user=root,host=x,addr=127.0.0.1 | grep -E '^(permitrootlogin|passwordauth)'"
                   ).splitlines() == ["permitrootlogin no", "passwordauthentication no"]

    again = hostsetup.prepare(host, machine.name)  # `sandbox.up` twice
    assert len(again) == 1 and again[0].startswith("host-setup: done"), again

    subprocess.run(["docker", "restart", "--time", "2", machine.name], check=True, capture_output=True, timeout=120)
    machine = testbed_vm.start_vm(host, machine.name)  # rebooted: a new published port, the same host key
    wait_for_ssh(machine)  # sshd reads the drop-in from the start
    assert ssh(machine, "root", "id -u").returncode == 255
    assert ssh(machine, "deploy", "id -un").stdout.strip() == "deploy"
    after_reboot = hostsetup.prepare(host, machine.name)
    assert len(after_reboot) == 1 and after_reboot[0].startswith("host-setup: done"), after_reboot


def test_state_left_by_a_root_deploy_is_handed_over_and_root_is_refused_as_the_user(vm_factory: Any) -> None:
    machine = vm_factory()
    host = testbed_vm.host_for()
    as_root(machine, "mkdir -p /var/lib/shipyard/demo/proxy/run && touch /var/lib/shipyard/demo/ledger.jsonl")
    assert as_root(machine, "stat -c %U:%G /var/lib/shipyard/demo/ledger.jsonl") == "root:root"
    lines = hostsetup.prepare(host, machine.name)
    assert any("handed what an earlier deploy left" in line for line in lines), lines
    owners = as_root(machine, "find /var/lib/shipyard -exec stat -c %U:%G {} + | sort -u")
    assert owners == "deploy:shipyard"

    with pytest.raises(Exception, match="the deploy user must not be root"):
        hostsetup.prepare(host, machine.name, user="root")
    missing = subprocess.run(["docker", "exec", machine.name, hostsetup.INSTALLED, "--authorized-keys", "/nonexistent"],
                             capture_output=True, text=True, timeout=60)
    assert missing.returncode == 2 and "no public key in /nonexistent" in missing.stderr
