"""`secrets`: keep secrets out of the repository and check that an environment has all it needs.

    invoke secrets.scan                    # detect-secrets' hook over the repo vs the committed .secrets.baseline
    invoke secrets.check --env staging     # every secret staging needs: present or missing (never values)
    invoke secrets.install-ssh --env staging   # CI: SSH key + known_hosts from environment variables
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from invoke.collection import Collection

from shipyard.tasks._base import load_config, runner, task


def _root() -> Path:
    from shipyard.config import find_config
    from shipyard.errors import ShipyardError

    try:
        return find_config().parent
    except ShipyardError:
        return Path.cwd()


def _repo_files(root: Path, exclude: Path) -> list[str]:
    from shipyard.commands import git

    result = runner().run(git.ls_files(), cwd=str(root), timeout=60)
    names = [n for n in result.stdout.split("\0") if n]
    skip = exclude.resolve()
    return sorted(n for n in names if (root / n).is_file() and not (root / n).is_symlink()
                  and (root / n).resolve() != skip)


@task(help={"baseline": "the committed baseline (default: .secrets.baseline at the repository root)",
            "update": "write the current findings into the baseline, after you have checked they are not secrets",
            "dry_run": "print the detect-secrets commands, scan nothing"}, default=True)
def scan(c: Any, baseline: str | None = None, update: bool = False, dry_run: bool = False) -> None:
    """Scan tracked and unignored files with detect-secrets' hook; fail on findings the baseline does not know."""
    import shutil
    import tempfile

    from shipyard.commands import checks as cmd
    from shipyard.errors import ShipyardError
    from shipyard.infra.secrets import BASELINE, audited_real, hook_report, load_baseline
    from shipyard.infra.tools import python_tool

    root = _root()
    committed = Path(baseline) if baseline else root / BASELINE
    if not committed.is_file():
        raise ShipyardError(f"{committed}: no baseline", hint=f"create it with `detect-secrets scan > {BASELINE}`, "
                            "check every finding (`detect-secrets audit`) and commit it")
    old = load_baseline(committed.read_text(encoding="utf-8"), committed.name)
    files = _repo_files(root, committed)
    hook, scanner = python_tool("detect-secrets-hook"), python_tool("detect-secrets")
    if dry_run:
        runner(True).run(cmd.detect_secrets_hook(hook, files, baseline=str(committed)), cwd=str(root))
        if update:
            runner(True).run(cmd.detect_secrets_scan(scanner, files, baseline=str(committed)), cwd=str(root))
        return
    with tempfile.TemporaryDirectory(prefix="shipyard-secrets-") as tmp:
        # the hook rewrites the baseline it is given (exit 3) when line numbers moved: give it a scratch copy
        scratch = Path(tmp) / BASELINE
        shutil.copyfile(committed, scratch)
        result = runner().run(cmd.detect_secrets_hook(hook, files, baseline=str(scratch)), cwd=str(root),
                              timeout=600, check=False)
        if result.exit_code not in (0, 1, 3):
            last = (result.stderr or result.stdout).strip().splitlines()
            raise ShipyardError(f"detect-secrets-hook failed with exit code {result.exit_code}: "
                                f"{last[-1] if last else 'no output'}")
        new = hook_report(result.stdout) if result.exit_code == 1 else []
        # known findings that an audit marked as real fail too (line numbers as the hook last saw them)
        found = sorted(set(new) | set(audited_real(load_baseline(scratch.read_text(encoding="utf-8")))))
        if update:
            shutil.copyfile(committed, scratch)
            runner().run(cmd.detect_secrets_scan(scanner, files, baseline=str(scratch)), cwd=str(root), timeout=600)
            load_baseline(scratch.read_text(encoding="utf-8"), "the scan")
            shutil.copyfile(scratch, committed)
            print(f"secrets.scan: {committed.name} updated ({len(found)} finding(s) accepted); review and commit it")
            return
    for finding in found:
        print(finding)
    if found:
        raise ShipyardError(f"secrets.scan: {len(found)} new finding(s) in {len(files)} file(s)",
                            hint="remove the secret from the file and rotate it; for a false positive add "
                                 "`pragma: allowlist secret` on the line, or run `invoke secrets.scan --update` "
                                 f"and commit {committed.name}")
    known = sum(len(v) for v in old.get("results", {}).values())
    print(f"secrets.scan: {len(files)} file(s), no new finding ({known} known in {committed.name})")


@task(help={"env": "environment from shipyard.yaml", "file": "path to the config (default: nearest shipyard.yaml)"})
def check(c: Any, env: str, file: str | None = None) -> None:
    """Resolve every secret the environment's services need and report present/missing; values never shown."""
    from shipyard.errors import ShipyardError
    from shipyard.infra.secrets import statuses

    config = load_config(file)
    config.environment(env)
    rows = statuses(config, env)
    if not rows:
        print(f"secrets.check: environment {env} needs no secret")
        return
    width = max(len(r.name) for r in rows)
    for row in rows:
        state = "present" if row.present else "MISSING"
        detail = f" - {row.problem}" if row.problem else ""
        print(f"{row.name:<{width}}  {state:<7}  {row.source}  (services: {', '.join(row.services)}){detail}")
    missing = [r.name for r in rows if not r.present]
    if missing:
        raise ShipyardError(f"secrets.check: {len(missing)} of {len(rows)} secret(s) missing for {env}: "
                            f"{', '.join(missing)}", hint="set them as shown above (in CI: GitHub environment secrets)")
    print(f"secrets.check: all {len(rows)} secret(s) for {env} present")


@task(name="install-ssh",
      help={"env": "vm environment from shipyard.yaml (its ssh.key and ssh.known_hosts paths are written)",
            "force": "replace an existing, different key file",
            "dry_run": "say which files would be written, write nothing"})
def install_ssh(c: Any, env: str, force: bool = False, dry_run: bool = False) -> None:
    """Write the deploy key and known_hosts entries from $SHIPYARD_SSH_KEY and $SHIPYARD_KNOWN_HOSTS (CI)."""
    from shipyard.infra.sshfiles import install

    config = load_config()
    for line in install(config, env, os.environ, force=force, dry_run=dry_run):
        print(line)


ns = Collection("secrets", scan, check, install_ssh)
