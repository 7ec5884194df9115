"""argv builders for git."""

from __future__ import annotations

Argv = list[str]


def head_sha() -> Argv:
    return ["git", "rev-parse", "--verify", "HEAD"]


def status_porcelain() -> Argv:
    return ["git", "status", "--porcelain", "--untracked-files=normal"]


def current_branch() -> Argv:
    return ["git", "rev-parse", "--abbrev-ref", "HEAD"]


def tags_at_head() -> Argv:
    return ["git", "tag", "--points-at", "HEAD"]


def merge_base(base: str, head: str = "HEAD") -> Argv:
    return ["git", "merge-base", base, head]


def changed_files(base: str, head: str = "HEAD") -> Argv:
    return ["git", "diff", "--name-only", "--no-renames", base, head]


def is_shallow() -> Argv:
    return ["git", "rev-parse", "--is-shallow-repository"]


def verify_ref(ref: str) -> Argv:
    return ["git", "rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}"]


def ls_files() -> Argv:
    """Tracked files plus untracked ones that .gitignore does not exclude, NUL-separated."""
    return ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"]
