"""Wiring of the `testbed` collection: listed, documented flags, user errors as one line (no Docker needed)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

INVOKE = str(Path(sys.executable).parent / "invoke")


def invoke(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([INVOKE, *args], capture_output=True, text=True, timeout=60, check=False)


def test_testbed_tasks_are_listed_with_up_as_default():
    out = invoke("--list").stdout
    for name in ("testbed.down", "testbed.status", "testbed.up (testbed)", "testbed.vm-start", "testbed.vm-stop"):
        assert name in out


def test_every_flag_has_help():
    for name in ("testbed.up", "testbed.down", "testbed.vm-start", "testbed.vm-stop"):
        out = invoke("--help", name).stdout
        options = out.split("Options:")[1]
        for line in options.splitlines():
            if line.strip().startswith("-"):
                assert len(line.split("  ")) > 1 and line.split("  ")[-1].strip(), (name, line)


def test_bad_ca_dir_is_one_line_without_traceback():
    result = invoke("testbed.up", "--ca-dir", "/nonexistent/cas")
    assert result.returncode == 1
    assert result.stderr.strip() == ("error: --ca-dir /nonexistent/cas: no such directory (next: point it at a"
                                     " directory of *.crt files, or pass --ca-dir none)")
    assert "Traceback" not in result.stdout + result.stderr


def test_unknown_image_and_bad_vm_name_are_one_line():
    result = invoke("testbed.up", "--only", "mysql", "--dry-run")
    assert result.returncode == 1 and result.stderr.startswith("error: unknown base image(s): mysql (next: choose")
    result = invoke("testbed.vm-start", "no/slash")
    assert result.returncode == 1 and "is not a valid container name" in result.stderr
    assert "Traceback" not in result.stderr
