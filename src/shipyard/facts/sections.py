"""Split the output of commands.hostfacts.gather into its named sections. Pure."""

from __future__ import annotations

import re

_MARK = re.compile(r"^@@shipyard:([a-z]+)@@$")


def split(text: str) -> dict[str, str]:
    sections: dict[str, list[str]] = {}
    current: list[str] | None = None
    for line in text.splitlines(keepends=True):
        match = _MARK.match(line.strip())
        if match:
            current = sections.setdefault(match.group(1), [])
        elif current is not None:
            current.append(line)
    return {name: "".join(lines) for name, lines in sections.items()}


def image_presence(text: str) -> dict[str, bool]:
    return {line.split(" ", 1)[1]: line.startswith("yes ") for line in text.splitlines() if " " in line}
