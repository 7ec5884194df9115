"""Load YAML while remembering where each key path came from, so errors can name a line.

PyYAML silently keeps the last of two equal keys; a deploy tool must not (two services
called `api` is a mistake, not an override), so duplicates are reported here.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import yaml

Path_ = tuple[str | int, ...]


@dataclass
class LocatedDocument:
    data: Any
    lines: dict[Path_, int] = field(default_factory=dict)
    duplicates: list[tuple[Path_, int]] = field(default_factory=list)

    def line_of(self, path: Path_) -> int:
        """Line of the deepest known prefix of `path` (a missing key points at its parent)."""
        for end in range(len(path), -1, -1):
            line = self.lines.get(tuple(path[:end]))
            if line is not None:
                return line
        return 1


class YamlSyntaxError(Exception):
    def __init__(self, line: int, problem: str) -> None:
        super().__init__(problem)
        self.line = line
        self.problem = problem


#: A configuration never comes near this many nodes once aliases are expanded; nested aliases (a "billion laughs"
#: document) do, and would keep validation busy for minutes.
MAX_NODES = 50_000


def _walk(node: yaml.Node, path: Path_, doc: LocatedDocument, budget: list[int]) -> None:
    budget[0] -= 1
    if budget[0] < 0:
        raise YamlSyntaxError(node.start_mark.line + 1, f"the document expands to more than {MAX_NODES:,} values"
                                                        " (nested aliases?); refusing to read it")
    doc.lines.setdefault(path, node.start_mark.line + 1)
    if isinstance(node, yaml.MappingNode):
        seen: set[str] = set()
        for key_node, value_node in node.value:
            key = str(key_node.value)
            child = (*path, key)
            if key in seen:
                doc.duplicates.append((child, key_node.start_mark.line + 1))
                continue
            seen.add(key)
            doc.lines[child] = key_node.start_mark.line + 1
            _walk(value_node, child, doc, budget)
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            _walk(item, (*path, index), doc, budget)


def load_located(text: str) -> LocatedDocument:
    """Parse one YAML document; raise YamlSyntaxError with a 1-based line on bad syntax."""
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
        data = yaml.safe_load(text)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else 1
        problem = (exc.problem or exc.context or "invalid YAML").strip()
        raise YamlSyntaxError(line, f"YAML syntax error: {problem}") from None
    except yaml.YAMLError as exc:  # pragma: no cover - unmarked errors are rare
        raise YamlSyntaxError(1, f"YAML error: {exc}") from None
    doc = LocatedDocument(data=data)
    if node is not None:
        _walk(node, (), doc, [MAX_NODES])
    return doc
