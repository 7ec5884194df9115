"""The execution layer against real local processes: success, failure, timeout, redaction, dry run."""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from shipyard.errors import ShipyardError
from shipyard.run import CommandError, CommandTimeout, DryRunRunner, LocalRunner, Redactor

CANARY = "canary-9f2c1e7b-secret"


@pytest.fixture
def redactor() -> Redactor:
    return Redactor([CANARY])


def test_success_captures_output() -> None:
    result = LocalRunner().run([sys.executable, "-c", "import sys; print('out'); print('err', file=sys.stderr)"])
    assert result.ok and result.exit_code == 0
    assert result.stdout == "out\n" and result.stderr == "err\n"
    assert result.duration > 0 and result.host == "local"


def test_non_zero_exit_raises_typed_error_with_tail() -> None:
    script = "import sys\nfor i in range(50): print(f'line {i}', file=sys.stderr)\nsys.exit(3)"
    with pytest.raises(CommandError) as info:
        LocalRunner().run([sys.executable, "-c", script])
    err = info.value
    assert err.exit_code == 3
    assert err.argv[0] == sys.executable
    assert err.stderr_tail.splitlines() == [f"line {i}" for i in range(30, 50)]
    assert "failed with exit code 3: line 49" in str(err)
    assert "\n" not in str(err)


def test_non_zero_exit_without_check() -> None:
    result = LocalRunner().run(["sh", "-c", "exit 7"], check=False)
    assert result.exit_code == 7 and not result.ok


def process_state(pid: int) -> str:
    """The state letter of `pid` ('S', 'R', ...), or 'gone' (a killed orphan that init has yet to reap is gone)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return "gone"
    state = stat.rsplit(")", 1)[1].split()[0]
    return "gone" if state in ("Z", "X") else state


def assert_gone(pids: list[int], grace: float = 3.0) -> None:
    deadline = time.monotonic() + grace
    while (states := {pid: process_state(pid) for pid in pids}) != dict.fromkeys(pids, "gone"):
        if time.monotonic() > deadline:
            for pid in pids:  # do not leave them behind for the next test
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
            raise AssertionError(f"still running after the timeout: {states}")
        time.sleep(0.05)


def shell_with_a_child(files: Path) -> list[str]:
    """A shell that says it started, records its own PID and its child's, then waits for the child (30 s)."""
    return ["sh", "-c", f"echo started; echo $$ > {files}/pid; sleep 30 & echo $! > {files}/child; wait"]


def test_process_state_sees_a_live_process() -> None:
    assert process_state(os.getpid()) in ("R", "S")
    assert process_state(2**22 + 1) == "gone"  # above the kernel's largest pid_max: never a process


@pytest.mark.parametrize("stream", [False, True], ids=["captured", "streamed"])
def test_timeout_kills_the_command_and_its_children(tmp_path: Path, stream: bool) -> None:
    lines: list[str] = []
    start = time.monotonic()
    with pytest.raises(CommandTimeout, match=r"timed out after 1s"):
        LocalRunner(echo=lines.append).run(shell_with_a_child(tmp_path), timeout=1, stream=stream)
    elapsed = time.monotonic() - start
    assert_gone([int((tmp_path / name).read_text()) for name in ("pid", "child")])
    assert elapsed < 3  # no waiting for a child that still holds the output pipe
    assert lines == (["started\n"] if stream else [])


INTERRUPTED = """
import signal, sys
signal.signal(signal.SIGINT, signal.default_int_handler)  # as under a terminal, even when started in background
from shipyard.run import LocalRunner
LocalRunner().run(["sh", "-c", sys.argv[1]], stream=sys.argv[2] == "stream")
"""


@pytest.mark.parametrize("stream", [False, True], ids=["captured", "streamed"])
def test_ctrl_c_interrupts_the_command_and_its_children(tmp_path: Path, stream: bool) -> None:
    """The command runs in its own session, out of the terminal's reach: ^C in shipyard must still reach it."""
    script = (f"trap 'echo interrupted > {tmp_path}/trap; exit 130' INT; "
              f"sleep 30 & echo $! > {tmp_path}/child; echo $$ > {tmp_path}/pid; wait")
    python = subprocess.Popen([sys.executable, "-c", INTERRUPTED, script, "stream" if stream else "capture"],
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 10
        while not (tmp_path / "pid").exists() and time.monotonic() < deadline:
            time.sleep(0.05)
        python.send_signal(signal.SIGINT)  # what the terminal sends to shipyard's own process group
        _, stderr = python.communicate(timeout=15)
    finally:
        python.kill()
    assert "KeyboardInterrupt" in stderr
    assert (tmp_path / "trap").read_text() == "interrupted\n"  # the command saw SIGINT and could clean up
    assert_gone([int((tmp_path / name).read_text()) for name in ("pid", "child")])


def test_missing_program_is_one_line_error() -> None:
    with pytest.raises(ShipyardError, match=r"`no-such-tool-xyz` is not installed or not on PATH"):
        LocalRunner().run(["no-such-tool-xyz"])


def test_env_cwd_and_input(tmp_path) -> None:  # type: ignore[no-untyped-def]
    result = LocalRunner().run(["sh", "-c", 'pwd; echo "$GREETING"; cat'], env={"GREETING": "hi"},
                               cwd=str(tmp_path), input="from stdin")
    assert result.stdout.splitlines() == [str(tmp_path), "hi", "from stdin"]


def test_canary_never_appears_in_output_logs_or_errors(redactor: Redactor, caplog, capsys) -> None:  # type: ignore[no-untyped-def]
    caplog.set_level(logging.DEBUG, logger="shipyard.run")
    streamed: list[str] = []
    runner = LocalRunner(redactor=redactor, echo=streamed.append)
    runner.run(["sh", "-c", f"echo {CANARY}; echo {CANARY} >&2"], stream=True)
    with pytest.raises(CommandError) as info:
        runner.run(["sh", "-c", f"echo token={CANARY} >&2; exit 1", CANARY])
    with pytest.raises(CommandTimeout) as timeout_info:
        runner.run(["sh", "-c", f"echo {CANARY} >&2; sleep 5", CANARY], timeout=0.3)
    dry: list[str] = []
    DryRunRunner(redactor=redactor, printer=dry.append).run(["docker", "login", "-p", CANARY])
    captured = capsys.readouterr()
    everything = "\n".join([
        caplog.text, captured.out, captured.err, *streamed, *dry,
        str(info.value), repr(info.value), info.value.stderr_tail, " ".join(info.value.argv),
        str(timeout_info.value), " ".join(timeout_info.value.argv),
    ])
    assert CANARY not in everything
    assert "******" in info.value.stderr_tail and "******" in dry[0] and "******" in caplog.text
    assert streamed and all(CANARY not in line for line in streamed)


def test_dry_run_prints_and_runs_nothing(tmp_path) -> None:  # type: ignore[no-untyped-def]
    marker = tmp_path / "marker"
    printed: list[str] = []
    runner = DryRunRunner(host="web-1", printer=printed.append)
    result = runner.run(["touch", str(marker)], cwd="/srv")
    assert result.ok and not marker.exists()
    assert printed == [f"[web-1] would run: touch {marker} (in /srv)"]
    assert runner.commands == [["touch", str(marker)]]


def test_redactor_refuses_tiny_values() -> None:
    with pytest.raises(ShipyardError, match=r"^a secret: its value is shorter than 4 characters"):  # one line
        Redactor(["ab"])
