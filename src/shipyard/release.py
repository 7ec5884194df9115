"""Release identity: which commit is being shipped and what its images are called."""

from __future__ import annotations

import re
from dataclasses import dataclass

from shipyard import imageref
from shipyard.commands import git as git_cmd
from shipyard.config.schema import Registry
from shipyard.errors import ReleaseError
from shipyard.facts import git as git_facts
from shipyard.run.base import CommandError, Runner

SHORT = 12
#: What `--sha` accepts on every target: 4 to 40 lowercase hex characters (git's shortest abbreviation to a full SHA).
SHA_INPUT = re.compile(r"^[0-9a-f]{4,40}$")


@dataclass(frozen=True)
class Release:
    sha: str
    branch: str | None = None
    version: str | None = None
    dirty: bool = False

    @property
    def short_sha(self) -> str:
        return self.sha[:SHORT]

    @property
    def tag(self) -> str:
        """The image tag: the short SHA (a dirty tree gets a suffix so it never poses as the commit)."""
        return f"{self.short_sha}-dirty" if self.dirty else self.short_sha

    def image(self, registry: Registry, service: str) -> str:
        return imageref.image(registry.address, registry.namespace, service, self.tag)

    def labels(self) -> dict[str, str]:
        labels = {"org.opencontainers.image.revision": self.sha}
        if self.version:
            labels["org.opencontainers.image.version"] = self.version
        return labels


def current(runner: Runner, *, cwd: str | None = None, allow_dirty: bool = False) -> Release:
    """Read HEAD's identity. A dirty tree is refused unless allow_dirty."""
    try:
        sha = git_facts.parse_sha(runner.run(git_cmd.head_sha(), cwd=cwd, timeout=30).stdout)
    except CommandError:
        raise ReleaseError("no commit to release: this is not a git repository or it has no commits",
                           hint="git init && git commit") from None
    dirty_paths = git_facts.parse_dirty(runner.run(git_cmd.status_porcelain(), cwd=cwd, timeout=30).stdout)
    if dirty_paths and not allow_dirty:
        shown = ", ".join(dirty_paths[:3]) + (" ..." if len(dirty_paths) > 3 else "")
        raise ReleaseError(f"working tree has uncommitted changes ({shown}); a release must be a commit",
                           hint="commit or stash them, or pass --allow-dirty for a throwaway build")
    branch = git_facts.parse_branch(runner.run(git_cmd.current_branch(), cwd=cwd, timeout=30).stdout)
    version = git_facts.parse_version(runner.run(git_cmd.tags_at_head(), cwd=cwd, timeout=30).stdout)
    return Release(sha=sha, branch=branch, version=version, dirty=bool(dirty_paths))


def resolve(sha: str, runner: Runner, *, cwd: str | None = None) -> Release:
    """A release given as `--sha`, the same on every target: expanded through git to the full commit when this
    repository has it; 12 or more characters are accepted as they are (the images are tagged with 12, so a release
    can be deployed or rolled back from outside its repository); anything else is refused in one line."""
    if not SHA_INPUT.match(sha):
        raise ReleaseError(f"--sha {sha!r} is not a git SHA (4 to 40 lowercase hex characters)",
                           hint="pass a commit SHA or its first characters, e.g. --sha 3f2c9e1")
    result = runner.run(git_cmd.verify_ref(sha), cwd=cwd, timeout=30, check=False)
    if result.ok:
        return Release(sha=git_facts.parse_sha(result.stdout))
    if len(sha) >= SHORT:
        return Release(sha=sha)
    raise ReleaseError(f"--sha {sha} is not a commit of this repository (or is ambiguous), and too short to be an"
                       f" image tag", hint=f"pass at least the {SHORT}-character short SHA the images are tagged with")
