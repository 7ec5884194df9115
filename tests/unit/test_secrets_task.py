"""`secrets.check`, `secrets.install-ssh` and `secrets.scan`, run as a user runs them (the invoke CLI), with
canary values planted: the output says present/missing and where, and never contains a value."""

from __future__ import annotations

import json
import os
import secrets
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from shipyard.errors import ShipyardError
from shipyard.infra.secrets import audited_real, hook_report
from shipyard.infra.sshfiles import known_hosts_lines

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
INVOKE = str(BIN / "invoke")


def canary(kind: str) -> str:
    return f"canary-{kind}-{secrets.token_hex(12)}"


def run(*args: str, cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items() if not k.startswith(("SHOP_", "SHIPYARD_"))}
    return subprocess.run([INVOKE, "--search-root", str(ROOT), *args], cwd=cwd, env={**base, **env},
                          capture_output=True, text=True, timeout=300, check=False)


@pytest.fixture
def project(tmp_path: Path) -> Path:
    repo = tmp_path / "repo"
    (repo / "ssh").mkdir(parents=True)
    outside = tmp_path / "outside"
    outside.mkdir()
    (repo / "shipyard.yaml").write_text(f"""\
project: shop
registry: {{address: 127.0.0.1:5000, namespace: shop}}
services:
  api: {{port: 8000, secrets: [DB_PASSWORD, API_KEY]}}
  web: {{port: 3000, secrets: [API_KEY]}}
  worker: {{port: 9000, secrets: [SIGNING_KEY]}}
secrets:
  DB_PASSWORD: {{env: SHOP_DB_PASSWORD}}
  API_KEY: {{file: {outside}/api_key}}
  SIGNING_KEY: {{env: SHOP_SIGNING_KEY}}
  INSIDE: {{file: inside.txt}}
environments:
  staging:
    target: vm
    hosts: [127.0.0.1]
    ssh: {{user: deploy, key: {tmp_path}/home/.ssh/shop_staging, known_hosts: {tmp_path}/home/.ssh/known_hosts}}
    overrides: {{services: {{worker: {{secrets: [SIGNING_KEY, INSIDE]}}}}}}
  dev: {{target: compose}}
""")
    return repo


def test_all_present_values_never_printed(project: Path) -> None:
    db, api, signing = canary("db"), canary("api"), canary("signing")
    (project.parent / "outside" / "api_key").write_text(api + "\n")
    (project / "inside.txt").write_text(canary("inside"))
    result = run("secrets.check", "--env", "dev", cwd=project,
                 env={"SHIPYARD_CONFIG": str(project / "shipyard.yaml"), "SHOP_DB_PASSWORD": db,
                      "SHOP_SIGNING_KEY": signing})
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [
        f"API_KEY      present  file {project.parent}/outside/api_key  (services: api, web)",
        "DB_PASSWORD  present  env SHOP_DB_PASSWORD  (services: api)",
        "SIGNING_KEY  present  env SHOP_SIGNING_KEY  (services: worker)",
        "secrets.check: all 3 secret(s) for dev present",
    ]
    for value in (db, api, signing):
        assert value not in result.stdout + result.stderr


def test_missing_ones_are_named_values_never_printed(project: Path) -> None:
    db, inside = canary("db"), canary("inside")
    (project / "inside.txt").write_text(inside)
    result = run("secrets.check", "--env", "staging", cwd=project,
                 env={"SHIPYARD_CONFIG": str(project / "shipyard.yaml"), "SHOP_DB_PASSWORD": db})
    assert result.returncode == 1
    out = result.stdout + result.stderr
    assert db not in out and inside not in out
    lines = result.stdout.splitlines()
    assert lines[0].startswith("API_KEY      MISSING  file ") and "cannot read file" in lines[0]
    assert lines[1] == "DB_PASSWORD  present  env SHOP_DB_PASSWORD  (services: api)"
    assert lines[2].startswith("INSIDE       MISSING  file inside.txt  (services: worker) - secret INSIDE: file "
                               "inside.txt is inside the repository")
    assert lines[3] == ("SIGNING_KEY  MISSING  env SHOP_SIGNING_KEY  (services: worker) - secret SIGNING_KEY: "
                        "environment variable SHOP_SIGNING_KEY is not set")
    assert result.stderr.strip() == ("error: secrets.check: 3 of 4 secret(s) missing for staging: API_KEY, INSIDE, "
                                     "SIGNING_KEY (next: set them as shown above (in CI: GitHub environment secrets))")


def test_unknown_environment_is_one_line(project: Path) -> None:
    result = run("secrets.check", "--env", "qa", cwd=project, env={"SHIPYARD_CONFIG": str(project / "shipyard.yaml")})
    assert result.returncode != 0
    assert len(result.stderr.strip().splitlines()) == 1 and "qa" in result.stderr
    assert "Traceback" not in result.stderr


def private_key(body: str) -> str:
    marker = "OPENSSH PRIVATE KEY-----"
    return f"-----BEGIN {marker}\n{body}\n-----END {marker}\n"


KNOWN = ("127.0.0.1 ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIE1r3hV0b1n9u6dD2aW8xPq0o2H6Kk1tq9Yc1u3Gx2zA\n"
         "[127.0.0.1]:2222 ecdsa-sha2-nistp256 AAAAE2VjZHNhLXNoYTItbmlzdHAyNTYAAAAIbmlzdHAyNTY=\n")


def test_install_ssh_writes_key_and_known_hosts_never_prints_the_key(project: Path, tmp_path: Path) -> None:
    body = canary("sshkey")
    env = {"SHIPYARD_CONFIG": str(project / "shipyard.yaml"), "SHIPYARD_SSH_KEY": private_key(body),
           "SHIPYARD_KNOWN_HOSTS": KNOWN}
    dry = run("secrets.install-ssh", "--env", "staging", "--dry-run", cwd=project, env=env)
    assert dry.returncode == 0 and not (tmp_path / "home").exists()
    assert dry.stdout.splitlines()[0] == f"would write deploy key for staging to {tmp_path}/home/.ssh/shop_staging " \
                                         "(mode 0600)"
    first = run("secrets.install-ssh", "--env", "staging", cwd=project, env=env)
    assert first.returncode == 0, first.stderr
    assert first.stdout.splitlines()[1] == (f"added 2 known_hosts entries to {tmp_path}/home/.ssh/known_hosts "
                                            "(0 already there)")
    key = tmp_path / "home/.ssh/shop_staging"
    assert key.read_text() == private_key(body).strip() + "\n"
    assert stat.S_IMODE(key.stat().st_mode) == 0o600
    assert stat.S_IMODE(key.parent.stat().st_mode) == 0o700
    assert (tmp_path / "home/.ssh/known_hosts").read_text() == KNOWN
    again = run("secrets.install-ssh", "--env", "staging", cwd=project, env=env)
    assert "added 0 known_hosts entries" in again.stdout and "(2 already there)" in again.stdout
    assert (tmp_path / "home/.ssh/known_hosts").read_text() == KNOWN
    other = run("secrets.install-ssh", "--env", "staging", cwd=project,
                env={**env, "SHIPYARD_SSH_KEY": private_key(canary("other"))})
    assert other.returncode == 1
    assert other.stderr.strip() == (f"error: {key} exists and holds a different key; refusing to replace it "
                                    "(next: pass --force to replace it)")
    for result in (dry, first, again, other):
        assert body not in result.stdout + result.stderr


@pytest.mark.parametrize(("known", "message"), [
    ("", "$SHIPYARD_KNOWN_HOSTS holds no known_hosts entry"),
    ("127.0.0.1 AAAAC3Nz\n", "$SHIPYARD_KNOWN_HOSTS line 1 is not a known_hosts entry (expected: host keytype key)"),
])
def test_known_hosts_must_be_real_entries(known: str, message: str) -> None:
    with pytest.raises(Exception, match=message.replace("$", r"\$").replace("(", r"\(").replace(")", r"\)")):
        known_hosts_lines(known)


def test_known_hosts_accepts_hashed_and_cert_authority_entries() -> None:
    text = "# comment\n|1|abc=|def= ssh-ed25519 AAAA\n@cert-authority *.example.com ssh-rsa AAAA\n"
    assert known_hosts_lines(text) == ["|1|abc=|def= ssh-ed25519 AAAA", "@cert-authority *.example.com ssh-rsa AAAA"]


def git(repo: Path, *args: str) -> None:
    subprocess.run(["git", "-C", str(repo), *args], check=True, capture_output=True)


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    repo = tmp_path / "scanned"
    repo.mkdir()
    git(repo, "init", "-q")
    (repo / ".gitignore").write_text("local.env\n")
    (repo / "app.py").write_text("print('hello')\n")
    baseline = subprocess.run([str(BIN / "detect-secrets"), "scan", "app.py", ".gitignore"], cwd=repo,
                              capture_output=True, text=True, check=True).stdout
    (repo / ".secrets.baseline").write_text(baseline)
    return repo


def test_scan_fails_on_a_new_secret_without_printing_it(repo: Path) -> None:
    key_id = "AKIA" + secrets.token_hex(8).upper()
    assert run("secrets.scan", cwd=repo, env={}).returncode == 0
    (repo / "settings.py").write_text(f"aws_key_id = '{key_id}'\n")  # untracked, not ignored: scanned
    (repo / "local.env").write_text(f"AWS_KEY={key_id}\n")           # ignored by git: not scanned
    result = run("secrets.scan", cwd=repo, env={})
    assert result.returncode == 1
    assert result.stdout.splitlines() == ["settings.py:1: AWS Access Key (not in .secrets.baseline)"]
    assert result.stderr.startswith("error: secrets.scan: 1 new finding(s) in 3 file(s) (next: remove the secret")
    assert key_id not in result.stdout + result.stderr
    accepted = run("secrets.scan", "--update", cwd=repo, env={})
    assert accepted.returncode == 0 and "updated (1 finding(s) accepted)" in accepted.stdout
    assert key_id not in (repo / ".secrets.baseline").read_text()
    assert run("secrets.scan", cwd=repo, env={}).returncode == 0


def test_allowlisted_line_passes(repo: Path) -> None:
    key_id = "AKIA" + secrets.token_hex(8).upper()
    (repo / "fixture.py").write_text(f"KEY = '{key_id}'  # pragma: allowlist secret\n")
    result = run("secrets.scan", cwd=repo, env={})
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.strip() == "secrets.scan: 3 file(s), no new finding (0 known in .secrets.baseline)"


def test_a_known_secret_that_moved_passes_and_the_baseline_stays(repo: Path) -> None:
    key_id = "AKIA" + secrets.token_hex(8).upper()
    (repo / "settings.py").write_text(f"aws_key_id = '{key_id}'\n")
    assert run("secrets.scan", "--update", cwd=repo, env={}).returncode == 0
    accepted = (repo / ".secrets.baseline").read_text()
    (repo / "settings.py").write_text(f"# moved down by a comment\n\naws_key_id = '{key_id}'\n")
    result = run("secrets.scan", cwd=repo, env={})  # the hook answers 3 (it rewrote its scratch baseline)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.strip() == "secrets.scan: 3 file(s), no new finding (1 known in .secrets.baseline)"
    assert (repo / ".secrets.baseline").read_text() == accepted  # changed only by --update


def test_a_known_finding_audited_as_real_still_fails(repo: Path) -> None:
    key_id = "AKIA" + secrets.token_hex(8).upper()
    (repo / "settings.py").write_text(f"aws_key_id = '{key_id}'\n")
    assert run("secrets.scan", "--update", cwd=repo, env={}).returncode == 0
    baseline = json.loads((repo / ".secrets.baseline").read_text())
    baseline["results"]["settings.py"][0]["is_secret"] = True  # what `detect-secrets audit` records for "real"
    (repo / ".secrets.baseline").write_text(json.dumps(baseline))
    result = run("secrets.scan", cwd=repo, env={})
    assert result.returncode == 1
    assert result.stdout.splitlines() == ["settings.py:1: AWS Access Key (not in .secrets.baseline)"]
    assert key_id not in result.stdout + result.stderr


def test_dry_run_prints_the_hook_command(repo: Path) -> None:
    result = run("secrets.scan", "--dry-run", cwd=repo, env={})
    assert result.returncode == 0, result.stderr
    assert "detect-secrets-hook --baseline" in result.stdout and " --json " in result.stdout
    assert "detect-secrets scan" not in result.stdout


def test_hook_report_and_audited_findings() -> None:
    digest, other = "ab12", "cd34"  # stand-ins for the SHA-1 detect-secrets stores
    entry = {"type": "Secret Keyword", "filename": "a.py", "hashed_secret": digest, "line_number": 3}
    report = json.dumps({"version": "1.5.0", "results": {"a.py": [entry]}})
    assert [str(f) for f in hook_report(report)] == ["a.py:3: Secret Keyword (not in .secrets.baseline)"]
    assert audited_real({"results": {"a.py": [entry, {**entry, "hashed_secret": other, "is_secret": False}]}}) == []
    real = audited_real({"results": {"a.py": [{**entry, "line_number": 5, "is_secret": True}]}})
    assert [str(f) for f in real] == ["a.py:5: Secret Keyword (not in .secrets.baseline)"]


def test_a_hook_that_printed_no_report_is_one_line() -> None:
    with pytest.raises(ShipyardError, match=r"^detect-secrets-hook failed: `git add \.secrets\.baseline` to fix"):
        hook_report("Your baseline file (.secrets.baseline) is unstaged.\n`git add .secrets.baseline` to fix this.\n")
