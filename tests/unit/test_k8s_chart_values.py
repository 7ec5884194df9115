"""The chart's values.yaml documents every key, and values.schema.json knows every key it sets."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import yaml

CHART = Path(__file__).resolve().parents[2] / "helm" / "shipyard"
KEY_RE = re.compile(r"^(\s*)([A-Za-z][A-Za-z0-9]*):(.*)$")


def leaf_lines(text: str) -> list[tuple[int, str, str]]:
    """(line number, key, indent) of every key whose value sits on its own line (not a nested block)."""
    lines = text.splitlines()
    out = []
    for number, line in enumerate(lines):
        match = KEY_RE.match(line)
        if not match:
            continue
        indent, key, rest = match.groups()
        value = rest.split(" #", 1)[0].strip()
        if value:  # scalar, or an inline {...} / [...]
            out.append((number, key, indent))
        else:  # a block: a leaf only when nothing more indented follows (a list block counts as a value)
            following = next((n for n in lines[number + 1:] if n.strip() and not n.strip().startswith("#")), "")
            if following.strip().startswith("- ") or len(following) - len(following.lstrip()) <= len(indent):
                out.append((number, key, indent))
    return out


def documented(lines: list[str], number: int, indent: str) -> bool:
    """A `# -- ...` comment block right above the key, or above the block it belongs to (resources, contexts)."""
    above = number - 1
    while above >= 0 and lines[above].strip().startswith("#") and not lines[above].strip().startswith("# --"):
        above -= 1
    if above >= 0 and lines[above].strip().startswith("# --"):
        return True
    for parent in range(number - 1, -1, -1):
        match = KEY_RE.match(lines[parent])
        if match and len(match.group(1)) < len(indent):
            return documented(lines, parent, match.group(1))
    return False


def test_every_key_in_values_yaml_is_documented() -> None:
    text = (CHART / "values.yaml").read_text()
    lines = text.splitlines()
    leaves = leaf_lines(text)
    assert len(leaves) > 40
    undocumented = [key for number, key, indent in leaves if not documented(lines, number, indent)]
    assert undocumented == []


def keys(data: Any, prefix: str = "") -> set[str]:
    out = set()
    if isinstance(data, dict):
        for key, value in data.items():
            out.add(prefix + key)
            out |= keys(value, prefix + key + ".")
    return out


def schema_knows(schema: dict[str, Any], path: list[str]) -> bool:
    node = schema
    for part in path:
        props = node.get("properties", {})
        if part not in props:
            return node.get("additionalProperties", True) is not False  # open maps: annotations, flags
        node = props[part]
    return True


def test_schema_covers_every_key_of_every_values_file() -> None:
    schema = json.loads((CHART / "values.schema.json").read_text())
    files = [CHART / "values.yaml", *sorted(CHART.glob("values-*.yaml")), *sorted((CHART / "ci").glob("*.yaml"))]
    assert len(files) >= 6
    for path in files:
        data = yaml.safe_load(path.read_text()) or {}
        unknown = [k for k in sorted(keys(data)) if not schema_knows(schema, k.split("."))]
        assert unknown == [], path.name
    assert schema["additionalProperties"] is False
