"""The programs shipped to hosts (shipyard/assets/host/): each builder sends its asset file's text, every asset
passes its linter (shellcheck; py_compile and ruff), and the programs run here on their own.

The lock script's compare-and-swap, the write and ledger-append scripts' basics and the probe/make-dirs scripts
are run in test_builders_deploy.py and test_deploy_user.py; this file adds what those do not cover.
"""

from __future__ import annotations

import http.server
import os
import py_compile
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from shipyard.commands import docker, haproxy, hostfacts, hoststate, programs, proxy, testbed
from shipyard.commands.layout import HostLayout
from shipyard.infra.tools import python_tool

ROOT = Path(__file__).resolve().parents[2]
ASSETS = ROOT / "src" / "shipyard" / "assets" / "host"
LAYOUT = HostLayout("demo")
SOCK = "/var/lib/shipyard/demo/proxy/run/admin.sock"
NOT_SENT = {"host-setup.sh"}  # copied to hosts and run by cloud-init or sandbox.up, never passed in an argv


def built() -> dict[str, list[str]]:
    """One call of each builder that sends a program."""
    return {
        "lock": hoststate.lock(LAYOUT, "replace", "id-1"),
        "read_lock": hoststate.read_lock(LAYOUT),
        "write_file": hoststate.write_file("/srv/a.cfg", "077"),
        "append_ledger": hoststate.append_ledger(LAYOUT),
        "make_dirs": hoststate.make_dirs(LAYOUT),
        "probe": hoststate.probe(LAYOUT),
        "first_boot_wait": hoststate.first_boot_wait(),
        "apt_install": hoststate.apt_install(["docker.io", "python3"]),
        "admin": haproxy.admin(LAYOUT),
        "switch_with_backup": haproxy.switch_with_backup(LAYOUT, "app", "green", "blue", 8000),
        "http_probe": proxy.http_probe("http://127.0.0.1:8080/ready"),
    }


def expected(text: Callable[[str], str]) -> dict[str, list[str]]:
    """What each builder must send, given the text of each asset: the wrapping each had when its program was a
    string in commands/ (ledger-append.sh now takes ledger_append.py as its $2, as switch.sh takes the client)."""
    specs = ["2750:/var/lib/shipyard/demo", "2750:/var/lib/shipyard/demo/proxy",
             "2750:/var/lib/shipyard/demo/proxy/conf", "2770:/var/lib/shipyard/demo/proxy/run",
             "2750:/var/lib/shipyard/demo/proxy/tls", "2750:/var/lib/shipyard/demo/env"]
    return {
        "lock": ["sh", "-c", text("lock.sh"), "shipyard-lock", "/var/lib/shipyard/demo", "replace", "id-1"],
        "read_lock": ["sh", "-c", text("lock.sh"), "shipyard-lock", "/var/lib/shipyard/demo", "read", ""],
        "write_file": ["sh", "-c", text("write-file.sh"), "shipyard-write", "/srv/a.cfg", "077"],
        "append_ledger": ["sh", "-c", text("ledger-append.sh"), "shipyard-ledger",
                          "/var/lib/shipyard/demo/ledger.jsonl", text("ledger_append.py")],
        "make_dirs": ["sh", "-c", text("make-dirs.sh"), "shipyard-dirs", "/var/lib/shipyard", *specs],
        "probe": ["sh", "-c", text("probe.sh"), "shipyard-probe", "/var/lib/shipyard", *specs],
        "first_boot_wait": ["sh", "-c", text("first-boot-wait.sh"), "shipyard-first-boot", "900"],
        "apt_install": ["sh", "-c", text("apt-install.sh"), "shipyard-apt", "docker.io", "python3"],
        "admin": ["python3", "-I", "-S", "-c", text("haproxy_admin.py"), SOCK],
        "switch_with_backup": [
            "sh", "-c", text("switch.sh"), "shipyard-switch", "demo-app-blue",
            '{{with index .NetworkSettings.Networks "demo"}}{{.IPAddress}}{{end}}', "app/blue-standby", "8000",
            "set server app/green state ready; set server app/blue-standby state ready; set server app/blue state"
            " maint\n", text("haproxy_admin.py"), SOCK],
        "http_probe": ["python3", "-I", "-S", "-c", text("http_probe.py"), "http://127.0.0.1:8080/ready", "5"],
    }


def from_folder(folder: Path) -> Callable[[str], str]:
    return lambda name: programs.body((folder / name).read_text(encoding="utf-8"))


def assets(suffix: str) -> list[Path]:
    return sorted(p for p in ASSETS.iterdir() if p.name.endswith(suffix))


def test_builders_send_the_asset_files() -> None:
    used: set[str] = set()

    def text(name: str) -> str:
        used.add(name)
        return from_folder(ASSETS)(name)

    assert built() == expected(text)
    assert used == {p.name for p in ASSETS.iterdir()} - NOT_SENT  # every asset is sent by a builder above


def test_a_changed_asset_changes_what_is_sent(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for path in ASSETS.iterdir():
        (tmp_path / path.name).write_text(path.read_text(encoding="utf-8") + f"# changed: {path.name}\n")
    monkeypatch.setattr(programs, "folder", lambda: tmp_path)
    programs.program.cache_clear()
    try:
        now = built()
        assert now == expected(from_folder(tmp_path))
        assert all(now[key] != argv for key, argv in expected(from_folder(ASSETS)).items())
    finally:
        monkeypatch.undo()
        programs.program.cache_clear()
    assert built() == expected(from_folder(ASSETS))


def test_only_the_leading_comment_lines_stay_home() -> None:
    assert programs.body("#!/bin/sh\n# what it does\nset -eu\n# kept\necho x\n") == "set -eu\n# kept\necho x\n"
    assert programs.body("set -eu\n") == "set -eu\n"
    assert programs.body("# only a comment\n") == ""
    assert programs.body("#!/bin/sh\n\n# after a blank line\n") == "\n# after a blank line\n"
    for path in ASSETS.iterdir():
        if path.name not in NOT_SENT:
            assert path.read_text(encoding="utf-8").startswith("#"), f"{path.name}: say what it does in a header"


# ----------------------------------------------------------------------------------------------- linters


def inline_scripts() -> dict[str, str]:
    """The one-line `sh -c` programs that stay in their builders (one command each), by their $0."""
    pinned_ref = "127.0.0.1:5000/demo/app@sha256:" + "ab" * 32
    found: dict[str, str] = {}
    for argv in (hoststate.file_sha256_mode("/x"),
                 hoststate.read_ledger(LAYOUT, 5), docker.pull_pinned(pinned_ref, "t1"),
                 testbed.install_file("vm", "/usr/local/bin/x"), hostfacts.gather(LAYOUT, ["r/a:1"]),
                 docker.images_present(["r/a:1"]), docker.stop_and_remove("demo-app-blue")):
        at = next(i for i in range(len(argv) - 1) if argv[i:i + 2] == ["sh", "-c"])
        found[f"{argv[at + 3]}/{len(found)}"] = argv[at + 2]
    return found


def shellcheck(path_or_text: Path | str) -> subprocess.CompletedProcess[str]:
    """shellcheck a file (its shebang says the shell) or a text (POSIX sh)."""
    binary = python_tool("shellcheck")
    if isinstance(path_or_text, Path):
        return subprocess.run([binary, str(path_or_text)], capture_output=True, text=True, timeout=60)
    return subprocess.run([binary, "-s", "sh", "-"], input=path_or_text, capture_output=True, text=True, timeout=60)


@pytest.mark.tool("shellcheck")
@pytest.mark.parametrize("path", assets(".sh"), ids=lambda p: p.name)
def test_shell_assets_pass_shellcheck(path: Path) -> None:
    result = shellcheck(path)
    assert result.returncode == 0, result.stdout


@pytest.mark.tool("shellcheck")
def test_inline_sh_programs_pass_shellcheck() -> None:
    for name, text in inline_scripts().items():
        result = shellcheck(text)
        assert result.returncode == 0, f"{name}: {result.stdout}"


@pytest.mark.tool("shellcheck")
def test_shellcheck_fails_a_bad_script(tmp_path: Path) -> None:
    bad = tmp_path / "bad.sh"
    bad.write_text('#!/bin/sh\nfor f in $(ls $1); do rm $f; done\n')
    assert shellcheck(bad).returncode != 0
    assert shellcheck('[ $1 == x ] && echo "$((1+))"\n').returncode != 0


@pytest.mark.parametrize("path", assets(".py"), ids=lambda p: p.name)
def test_python_assets_compile(path: Path, tmp_path: Path) -> None:
    py_compile.compile(str(path), cfile=str(tmp_path / "out.pyc"), doraise=True)


def test_py_compile_fails_a_bad_program(tmp_path: Path) -> None:
    bad = tmp_path / "bad.py"
    bad.write_text("import sys\nif True\n    sys.exit(1)\n")
    with pytest.raises(py_compile.PyCompileError):
        py_compile.compile(str(bad), cfile=str(tmp_path / "bad.pyc"), doraise=True)


def ruff(*paths: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([python_tool("ruff"), "check", "--no-cache", "--config", str(ROOT / "pyproject.toml"),
                           *map(str, paths)], capture_output=True, text=True, timeout=120)


@pytest.mark.tool("ruff")
def test_python_assets_pass_ruff(tmp_path: Path) -> None:
    result = ruff(*assets(".py"))
    assert result.returncode == 0, result.stdout
    bad = tmp_path / "bad.py"
    bad.write_text("import socket, sys\nprint(sys.argv)\n")
    assert ruff(bad).returncode != 0  # the gate is not vacuous


# ------------------------------------------------------------------------------------ run on their own


@pytest.fixture
def short_dir() -> Iterator[Path]:
    """A directory with a short path: a Unix socket's path is limited to about 100 bytes."""
    path = Path(tempfile.mkdtemp(prefix="sy-", dir="/tmp"))
    yield path
    shutil.rmtree(path, ignore_errors=True)


class FakeAdmin:
    """HAProxy's admin socket as the client sees it: read the request to its end, answer, close."""

    def __init__(self, path: Path, replies: list[bytes]) -> None:
        self.path = path
        self.replies = list(replies)
        self.requests: list[bytes] = []
        self.server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.server.bind(str(path))
        self.server.listen()
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self.server.accept()
            except OSError:
                return
            with conn:
                data = b""
                while chunk := conn.recv(4096):
                    data += chunk
                self.requests.append(data)
                conn.sendall(self.replies.pop(0) if self.replies else b"\n")

    def close(self) -> None:
        self.server.close()


def run_admin(socket_path: Path, request: bytes) -> subprocess.CompletedProcess[bytes]:
    argv = haproxy.admin(HostLayout("demo"))
    return subprocess.run([*argv[:-1], str(socket_path)], input=request, capture_output=True, timeout=30)


def test_admin_client_sends_stdin_and_prints_the_whole_reply(short_dir: Path) -> None:
    reply = b"".join(b"1 app 1 blue 10.0.0.%d 2 0 1 1 %d\n" % (i % 250, i) for i in range(5000))  # > one recv
    admin = FakeAdmin(short_dir / "admin.sock", [reply])
    try:
        result = run_admin(admin.path, b"show servers state app\n")
    finally:
        admin.close()
    assert result.returncode == 0, result.stderr
    assert admin.requests == [b"show servers state app\n"]
    assert result.stdout == reply


def test_admin_client_fails_without_a_proxy(short_dir: Path) -> None:
    result = run_admin(short_dir / "none.sock", b"show info\n")
    assert result.returncode != 0 and b"FileNotFoundError" in result.stderr


def run_switch(short_dir: Path, ip: str, replies: list[bytes]) -> tuple[subprocess.CompletedProcess[str], FakeAdmin]:
    """switch.sh with a stand-in `docker` (it prints the container's address) and a fake admin socket."""
    bin_dir = short_dir / "bin"
    bin_dir.mkdir(exist_ok=True)
    (bin_dir / "docker").write_text(f"#!/bin/sh\nprintf '%s\\n' '{ip}'\n")
    (bin_dir / "docker").chmod(0o755)
    admin = FakeAdmin(short_dir / "admin.sock", replies)
    argv = haproxy.switch_with_backup(LAYOUT, "app", "green", "blue", 8000)
    try:
        result = subprocess.run([*argv[:-1], str(admin.path)], capture_output=True, text=True, timeout=30,
                                env={**os.environ, "PATH": f"{bin_dir}:{os.environ['PATH']}"})
    finally:
        admin.close()
    return result, admin


SWITCH = b"set server app/green state ready; set server app/blue-standby state ready; set server app/blue state maint\n"


def test_switch_points_the_backup_at_the_live_container_then_switches(short_dir: Path) -> None:
    changed = b"IP changed from '127.0.0.1' to '10.0.0.5', no need to change the port by 'stats socket command'\n"
    result, admin = run_switch(short_dir, "10.0.0.5", [changed, b"\n"])
    assert result.returncode == 0, result.stderr
    assert admin.requests == [b"set server app/blue-standby addr 10.0.0.5 port 8000\n", SWITCH]


@pytest.mark.parametrize(("ip", "replies", "code", "message", "sent"), [
    ("", [], 3, "the live container demo-app-blue has no address; not switching away from it", 0),
    ("10.0.0.5", [b"Invalid addr.\n"], 4, "the proxy refused the backup address: Invalid addr.", 1),
    ("10.0.0.5", [b"no need to change the addr\n", b"No such server.\n"], 5,
     "the proxy refused the switch: No such server.", 2),
])
def test_switch_stops_at_the_first_refusal(short_dir: Path, ip: str, replies: list[bytes], code: int, message: str,
                                           sent: int) -> None:
    result, admin = run_switch(short_dir, ip, replies)
    assert (result.returncode, result.stderr.strip()) == (code, message)
    assert len(admin.requests) == sent


class Answers(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        self.send_response(200 if self.path == "/ready" else 503)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def web() -> Iterator[str]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Answers)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_http_probe_prints_the_status_and_fails_unless_it_is_good(web: str) -> None:
    ok = subprocess.run(proxy.http_probe(f"{web}/ready", 5), capture_output=True, text=True, timeout=30)
    assert (ok.returncode, ok.stdout) == (0, "200\n")
    down = subprocess.run(proxy.http_probe(f"{web}/down", 5), capture_output=True, text=True, timeout=30)
    assert (down.returncode, down.stdout) == (1, "503\n")
    with socket.socket() as unused:
        unused.bind(("127.0.0.1", 0))
        port = unused.getsockname()[1]
    gone = subprocess.run(proxy.http_probe(f"http://127.0.0.1:{port}/ready", 2), capture_output=True, text=True,
                          timeout=30)
    assert gone.returncode == 2 and gone.stdout == "" and gone.stderr.startswith("no answer: ")


def test_ledger_appends_from_many_writers_stay_whole_lines(tmp_path: Path) -> None:
    """Concurrent deployers: each entry lands whole, on its own line (one O_APPEND write each)."""
    layout = HostLayout("demo", root=str(tmp_path))
    entries = [f'{{"n": {i}, "pad": "{chr(97 + i % 26) * 3000}"}}\n' for i in range(8)]
    procs = [subprocess.Popen(hoststate.append_ledger(layout), stdin=subprocess.PIPE, text=True) for _ in entries]
    for proc, entry in zip(procs, entries, strict=True):
        assert proc.stdin is not None
        proc.stdin.write(entry)
        proc.stdin.close()
    assert [proc.wait(timeout=60) for proc in procs] == [0] * len(entries)
    ledger = Path(layout.ledger)
    assert sorted(ledger.read_text().splitlines(keepends=True)) == sorted(entries)
    assert ledger.stat().st_mode & 0o777 == 0o640 & ~_umask()


def test_ledger_append_runs_as_a_file_too(tmp_path: Path) -> None:
    """ledger_append.py on its own (its header is comments): the same refusals, nothing appended."""
    ledger = tmp_path / "ledger.jsonl"
    for entry, ok in (('{"a":1}\n', True), ('{"a":2}', False), ('{"a":3}\n{"a":4}\n', False), ("", False)):
        result = subprocess.run([sys.executable, "-I", "-S", str(ASSETS / "ledger_append.py"), str(ledger)],
                                input=entry, capture_output=True, text=True, timeout=30)
        assert (result.returncode == 0) is ok, result.stderr
        if not ok:
            assert "shipyard-ledger: refusing an incomplete or multi-line entry" in result.stderr
    assert ledger.read_text() == '{"a":1}\n'


def _umask() -> int:
    current = os.umask(0)
    os.umask(current)
    return current
