"""The execution layer over real SSH (Fabric) to a test-bed sshd host with a pinned host key."""

from __future__ import annotations

import logging
import time
import uuid
from pathlib import Path

import pytest

from shipyard.errors import ShipyardError
from shipyard.run import (
    CommandError,
    CommandTimeout,
    HostUnreachable,
    Redactor,
    SSHRunner,
    UnknownHostKey,
    on_hosts,
)
from shipyard.run.group import GroupError

pytestmark = pytest.mark.ssh
CANARY = "canary-3b7e0d-ssh-secret"


def test_success_over_ssh(ssh_host) -> None:  # type: ignore[no-untyped-def]
    runner = ssh_host.runner()
    try:
        result = runner.run(["sh", "-c", "echo hello; echo oops >&2; hostname"], env={"X": "1"})
        assert result.ok and result.host == ssh_host.name
        assert result.stdout.splitlines()[0] == "hello" and result.stderr == "oops\n"
        assert runner.run(["sh", "-c", "pwd"], cwd="/tmp").stdout.strip() == "/tmp"
        assert runner.run(["cat"], input="piped").stdout == "piped"
    finally:
        runner.close()


def test_env_values_arrive_verbatim_and_never_run_as_shell(ssh_host) -> None:  # type: ignore[no-untyped-def]
    runner = ssh_host.runner()
    tricky = "a b; touch /tmp/injected-$$ `id` $(id) 'q' \"dq\" \\ end"
    try:
        result = runner.run(["sh", "-c", 'printf %s "$TRICKY"'], env={"TRICKY": tricky, "PLAIN": "1"})
        assert result.stdout == tricky
        assert runner.run(["sh", "-c", "ls /tmp | grep -c injected || true"]).stdout.strip() == "0"
        with pytest.raises(ValueError, match="not an environment variable name"):
            runner.run(["true"], env={"A;B": "x"})
    finally:
        runner.close()


def test_non_zero_exit_over_ssh(ssh_host) -> None:  # type: ignore[no-untyped-def]
    runner = ssh_host.runner()
    try:
        with pytest.raises(CommandError) as info:
            runner.run(["sh", "-c", "echo broken >&2; exit 4"])
        assert info.value.exit_code == 4 and info.value.host == ssh_host.name
        assert info.value.stderr_tail == "broken"
        assert runner.run(["sh", "-c", "exit 4"], check=False).exit_code == 4
    finally:
        runner.close()


def remote_states(runner: SSHRunner, pids: list[str]) -> dict[str, str]:
    """Each PID's process state on the host ('S', 'R', ...), or 'gone' (a zombie, waiting for init, is gone)."""
    script = 'for pid; do printf "%s " "$pid"; cat "/proc/$pid/stat" 2>/dev/null || echo "gone) gone"; done'
    states = {}
    for line in runner.run(["sh", "-c", script, "sh", *pids]).stdout.splitlines():
        pid, stat = line.split(" ", 1)
        state = stat.rsplit(")", 1)[1].split()[0]
        states[pid] = "gone" if state in ("Z", "X") else state
    return states


def assert_gone_on_host(runner: SSHRunner, pids: list[str], grace: float = 5.0) -> None:
    assert pids and all(pid.isdigit() for pid in pids), pids
    assert remote_states(runner, ["1"]) != {"1": "gone"}  # the probe does see a live process
    deadline = time.monotonic() + grace
    while (states := remote_states(runner, pids)) != dict.fromkeys(pids, "gone") and time.monotonic() < deadline:
        time.sleep(0.2)
    assert states == dict.fromkeys(pids, "gone"), f"still running on the host after the timeout: {states}"


def test_timeout_over_ssh_kills_the_remote_command_and_its_children(ssh_host) -> None:  # type: ignore[no-untyped-def]
    runner = ssh_host.runner()
    files = f"/tmp/timeout-{uuid.uuid4().hex}"
    # The shell records its own PID and its child's, then waits: both must be gone after the timeout.
    script = f"echo $$ > {files}.pid; sleep 30 & echo $! > {files}.child; wait"
    try:
        start = time.monotonic()
        with pytest.raises(CommandTimeout, match="timed out after 1s"):
            runner.run(["sh", "-c", script], timeout=1)
        assert time.monotonic() - start < 10
        pids = runner.run(["cat", f"{files}.pid", f"{files}.child"]).stdout.split()  # the connection still works
        assert len(pids) == 2
        assert_gone_on_host(runner, pids)
    finally:
        runner.close()


def test_login_script_noise_passes_through_and_a_timeout_still_kills(ssh_host) -> None:  # type: ignore[no-untyped-def]
    runner = ssh_host.runner()
    try:
        assert runner.run(["getent", "passwd", ssh_host.user]).stdout.strip().endswith(":/bin/bash")
        # bash reads ~/.bashrc for commands sshd starts: noise on stderr before the runner's PID line
        runner.run(["sh", "-c", "printf 'echo login-noise >&2\\nprintf partial >&2\\n' >> ~/.bashrc"])
        runner.close()
        assert runner.run(["sh", "-c", "echo real-error >&2"]).stderr == "login-noise\npartialreal-error\n"
        with pytest.raises(CommandTimeout) as info:
            runner.run(["sh", "-c", "echo $$ > /tmp/noisy.pid; exec sleep 30"], timeout=1)
        assert "shipyard-remote-pid" not in info.value.stderr_tail
        assert_gone_on_host(runner, runner.run(["cat", "/tmp/noisy.pid"]).stdout.split())
    finally:
        runner.close()


def test_unknown_host_key_is_refused_with_how_to_trust(ssh_host, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    empty = tmp_path / "known_hosts"
    empty.write_text("")
    runner = SSHRunner(ssh_host.address, port=ssh_host.port, user=ssh_host.user, key=str(ssh_host.key),
                       known_hosts=str(empty))
    with pytest.raises(UnknownHostKey) as info:
        runner.run(["true"])
    message = str(info.value)
    assert f"not in {empty}; refusing to connect" in message
    assert f"ssh-keyscan -p {ssh_host.port} {ssh_host.address} >> {empty}" in message
    assert "\n" not in message
    assert empty.read_text() == ""  # nothing was trusted on first use


def test_changed_host_key_is_refused(ssh_host, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    import paramiko

    other = paramiko.RSAKey.generate(1024)
    wrong = tmp_path / "known_hosts"
    wrong.write_text(f"[{ssh_host.address}]:{ssh_host.port} ssh-rsa {other.get_base64()}\n")
    runner = SSHRunner(ssh_host.address, port=ssh_host.port, user=ssh_host.user, key=str(ssh_host.key),
                       known_hosts=str(wrong))
    with pytest.raises(ShipyardError, match="does NOT match"):
        runner.run(["true"])


def test_unreachable_host(tmp_path: Path) -> None:
    runner = SSHRunner("127.0.0.1", port=1, known_hosts=str(tmp_path / "none"), connect_timeout=2)
    with pytest.raises(HostUnreachable, match=r"\[127.0.0.1:1\] unreachable"):
        runner.run(["true"])


def test_canary_never_leaks_over_ssh(ssh_host, caplog, capsys) -> None:  # type: ignore[no-untyped-def]
    caplog.set_level(logging.DEBUG, logger="shipyard.run")
    redactor = Redactor([CANARY])
    runner = ssh_host.runner(redactor=redactor)
    try:
        runner.run(["sh", "-c", f"echo {CANARY}; echo {CANARY} >&2"], stream=True)
        with pytest.raises(CommandError) as info:
            runner.run(["sh", "-c", f"echo password={CANARY} >&2; exit 9"], env={"TOKEN": CANARY})
        with pytest.raises(CommandTimeout) as timeout_info:
            runner.run(["sh", "-c", f"echo {CANARY} >&2; sleep 20"], timeout=1)
    finally:
        runner.close()
    captured = capsys.readouterr()
    everything = "\n".join([caplog.text, captured.out, captured.err, str(info.value), repr(info.value),
                            info.value.stderr_tail, " ".join(info.value.argv), str(timeout_info.value)])
    assert CANARY not in everything
    assert "******" in captured.out and "******" in info.value.stderr_tail


def test_group_runs_hosts_in_parallel_and_aggregates_failures(vm_factory) -> None:  # type: ignore[no-untyped-def]
    hosts = [vm_factory(), vm_factory()]
    runners = [h.runner() for h in hosts]
    try:
        results = on_hosts(runners, lambda r: r.run(["sh", "-c", "sleep 1; echo up"]).stdout.strip())
        assert results == {h.name: "up" for h in hosts}
        with pytest.raises(GroupError) as info:
            on_hosts(runners, lambda r: r.run(["sh", "-c", "exit 3" if r.host == hosts[1].name else "true"]))
        assert set(info.value.failures) == {hosts[1].name}
        assert set(info.value.results) == {hosts[0].name}
        assert str(info.value).startswith(f"1 of 2 host(s) failed ({hosts[1].name})")
    finally:
        for r in runners:
            r.close()


def test_a_command_that_exits_before_reading_its_input_reports_its_own_exit(ssh_host) -> None:  # type: ignore[no-untyped-def]
    """The lock script refuses before reading the lease on stdin: that is its exit status and message, never a
    "connection lost" (nor, before that, a traceback from Invoke's stdin thread: seen in CI's fault matrix)."""
    runner = ssh_host.runner()
    try:
        for _ in range(3):  # 8 MB of input: far more than the channel's window, so the writer is still at it
            result = runner.run(["sh", "-c", "echo refused >&2; exit 3"], input="x" * 8_000_000, check=False)
            assert (result.exit_code, result.stderr.strip()) == (3, "refused")
        assert runner.run(["cat"], input="whole").stdout == "whole"  # the connection is still fine
    finally:
        runner.close()
