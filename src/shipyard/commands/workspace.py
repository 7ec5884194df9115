"""argv builders for the git queries the monorepo needs beyond commands/git.py."""

from __future__ import annotations

Argv = list[str]


def list_files() -> Argv:
    """Every file git knows or would add (tracked plus untracked, minus ignored), NUL-separated."""
    return ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"]


def changed_in_worktree(base: str) -> Argv:
    """Tracked files that differ between `base` and the working tree (staged or not)."""
    return ["git", "diff", "--name-only", "-z", "--no-renames", base]


def changed_between(base: str, head: str) -> Argv:
    return ["git", "diff", "--name-only", "-z", "--no-renames", base, head]


def untracked_files() -> Argv:
    return ["git", "ls-files", "-z", "--others", "--exclude-standard"]


def toplevel() -> Argv:
    return ["git", "rev-parse", "--show-toplevel"]


def resolve_refs(*revs: str) -> Argv:
    """The working directory's path from the top of the repository, then each revision's SHA, one per line."""
    return ["git", "rev-parse", "--show-prefix", *revs]
