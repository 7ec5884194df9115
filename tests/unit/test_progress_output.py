"""Deploy progress when nobody reads it any more: the deploy must go on to its ledger and its locks."""

from __future__ import annotations

import subprocess
import sys
import textwrap

PROGRAM = textwrap.dedent("""
    import sys, threading
    from shipyard.targets.progress import Progress

    progress = Progress()
    failures = []
    def host(name):  # as run.on_hosts does: whatever a host's work raises is that host's failure
        try:
            for i in range(2000):
                progress.step(name, "switch", f"step {i} " + "x" * 60, 0.01)
        except BaseException as exc:
            failures.append(f"{name}: {exc.__class__.__name__}({exc})")
    threads = [threading.Thread(target=host, args=(f"h{n}",)) for n in range(3)]
    for t in threads: t.start()
    for t in threads: t.join()
    progress.summary("deployed", {"h0": ("abc", "ok", {"switch": 0.1})})
    print("failed hosts:", failures, file=sys.stderr)
    print("every host finished", file=sys.stderr)
""")


def test_a_closed_stdout_silences_progress_without_failing_the_hosts() -> None:
    proc = subprocess.Popen([sys.executable, "-c", PROGRAM], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)
    assert proc.stdout is not None
    proc.stdout.close()  # the reader goes away before the first line
    _, err = proc.communicate(timeout=60)
    assert "every host finished" in err and "failed hosts: []" in err, err
    assert "Traceback" not in err, err
    assert proc.returncode == 0, err


def test_the_check_fails_when_a_print_raises_out_of_progress() -> None:
    """The same program whose hosts print through a bare rich Console (rich's own reaction to a closed pipe:
    SystemExit) fails its hosts, as deploys did, so the test above can tell the two apart."""
    broken = PROGRAM.replace('progress.step(name, "switch", f"step {i} " + "x" * 60, 0.01)',
                             'progress.console.print("x" * 80)')
    proc = subprocess.Popen([sys.executable, "-c", broken], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)
    assert proc.stdout is not None
    proc.stdout.close()
    _, err = proc.communicate(timeout=60)
    assert "failed hosts: []" not in err and "SystemExit(1)" in err, err


def test_long_steps_say_when_they_start() -> None:
    """A pull, a health wait, a release command or the watch window prints a line when it starts, so a slow one
    is never silent; quick steps only print when done, and `quiet` keeps only failures."""
    import io

    from rich.console import Console

    from shipyard.targets.progress import Progress

    out = io.StringIO()
    progress = Progress(Console(file=out, width=200, highlight=False))
    progress.begin("web-1", "pull", "pull 127.0.0.1:5000/demo/api@sha256:ab")
    progress.begin("web-1", "healthy", "wait until api/green is healthy")
    progress.begin("web-1", "switch", "switch api to green")
    progress.step("web-1", "switch", "switch api to green", 0.12)
    Progress(Console(file=out, width=200), quiet=True).begin("web-1", "pull", "pull x")
    assert out.getvalue().splitlines() == [
        "[web-1] pull     pull 127.0.0.1:5000/demo/api@sha256:ab ...",
        "[web-1] healthy  wait until api/green is healthy ...",
        "[web-1] switch   switch api to green (0.12s)",
    ]


def test_on_a_terminal_running_steps_show_in_a_live_panel_that_goes_away() -> None:
    """A terminal gets a live line per host with the running step and its elapsed time (every step, not only
    the long ones), masked like every printed line; the finished steps stay printed, the panel does not."""
    import io
    import time

    from rich.console import Console

    from shipyard.run.redact import REDACTOR
    from shipyard.targets.progress import Progress

    canary = "canary-Zq81-never-shown"
    REDACTOR.add(canary)
    out = io.StringIO()
    console = Console(file=out, width=100, force_terminal=True, color_system=None, highlight=False)
    with Progress(console) as progress:
        assert progress.live
        progress.begin("web-1", "pull", f"pull 127.0.0.1:5000/demo/api:{canary}")
        progress.begin("web-2", "switch", "switch api to green")
        time.sleep(0.6)  # the panel refreshes 4 times a second
        frame = out.getvalue()
        progress.step("web-2", "switch", "switch api to green", 0.12)
        progress.step("web-1", "pull", "pull 127.0.0.1:5000/demo/api", 0.7)
        progress.summary("deploy abc", {"web-1": ("abc", "ok", {"pull": 0.7})})
    assert f"[web-1] pull     pull 127.0.0.1:5000/demo/api:{REDACTOR(canary)} ... 0." in frame
    assert "[web-2] switch   switch api to green ... 0." in frame
    assert "web-2] switch   switch api to green (0.12s)" in out.getvalue()
    assert canary not in out.getvalue()
    assert progress._panel is None  # stopped: the summary ended it
    # no terminal, no panel: the plain lines of the test above
    assert not Progress(Console(file=io.StringIO())).live
    assert not Progress(console, quiet=True).live
