"""Globs over POSIX relative paths: `*` stays within a directory, `**` crosses them, `!` excludes.

Python 3.11's fnmatch lets `*` cross `/`, which would make `*.json` match `a/b.json`; these don't.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Sequence


@functools.lru_cache(maxsize=4096)
def compile_glob(pattern: str) -> re.Pattern[str]:
    if pattern.endswith("/"):
        pattern += "**"
    out: list[str] = []
    i, n = 0, len(pattern)
    while i < n:
        c = pattern[i]
        if pattern.startswith("**", i):
            at_start = i == 0 or pattern[i - 1] == "/"
            if at_start and pattern.startswith("**/", i):
                out.append("(?:.*/)?")
                i += 3
                continue
            if at_start and i + 2 == n and out and out[-1] == "/":
                out[-1] = "(?:/.*)?"
                i += 2
                continue
            out.append(".*")
            i += 2
        elif c == "*":
            out.append("[^/]*")
            i += 1
        elif c == "?":
            out.append("[^/]")
            i += 1
        elif c == "[":
            end = pattern.find("]", i + 2)
            if end == -1:
                out.append(re.escape(c))
                i += 1
                continue
            body = pattern[i + 1:end]
            if body.startswith("!"):
                body = "^" + body[1:]
            out.append("[" + body.replace("\\", "\\\\") + "]")
            i = end + 1
        else:
            out.append("/" if c == "/" else re.escape(c))
            i += 1
    return re.compile("".join(out) + r"\Z", re.DOTALL)


def static_prefix(pattern: str) -> str:
    """The directory part of a glob before its first wildcard: `dist/**/*.js` -> `dist`."""
    parts = []
    for part in pattern.removeprefix("!").split("/"):
        if any(ch in part for ch in "*?["):
            break
        parts.append(part)
    else:
        parts = parts[:-1]  # a literal file name: its folder
    return "/".join(parts)


class GlobSet:
    """Ordered include/exclude globs; a path matches if an include matches and no later exclude does."""

    def __init__(self, patterns: Sequence[str]) -> None:
        self.patterns = tuple(patterns)
        self._rules = [(p.startswith("!"), compile_glob(p.removeprefix("!"))) for p in patterns]
        self._simple = not any(neg for neg, _ in self._rules)
        if self._simple and self._rules:
            self._union: re.Pattern[str] | None = re.compile(
                "|".join(f"(?:{rx.pattern})" for _, rx in self._rules), re.DOTALL)
        else:
            self._union = None

    def __bool__(self) -> bool:
        return bool(self._rules)

    def match(self, path: str) -> bool:
        if self._union is not None:
            return self._union.match(path) is not None
        hit = False
        for negate, rx in self._rules:
            if hit == negate and rx.match(path):
                hit = not negate
        return hit
