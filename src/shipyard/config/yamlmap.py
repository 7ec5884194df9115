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


#: A configuration never comes near this many values once aliases are expanded; nested aliases (a "billion laughs"
#: document, a few lines long) do, and would keep validation busy for minutes.
MAX_NODES = 50_000
#: Nor this deep (shipyard.yaml nests about six levels); deeper nesting would only exhaust the interpreter's stack.
MAX_DEPTH = 100


class _BoundedLoader(yaml.SafeLoader):
    """PyYAML's safe loader, refusing while it composes what would be costly to expand: an alias inside its own
    anchor (endless), nesting deeper than MAX_DEPTH, or more than MAX_NODES values with every alias expanded.

    Each node's expanded size is counted once, when it is composed (an alias reuses its anchor's count), so the
    check costs one pass over the text however many times the aliases multiply."""

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self._open: list[Any] = []  # the collections being composed, outermost first (None: the document)
        self._sizes: dict[int, tuple[int, int]] = {}  # id(node) -> (values, levels) it expands to

    def compose_node(self, parent: Any, index: Any) -> Any:
        line = self.peek_event().start_mark.line + 1  # type: ignore[no-untyped-call]
        alias = self.check_event(yaml.AliasEvent)
        self._open.append(parent)
        try:
            if len(self._open) > MAX_DEPTH:
                raise YamlSyntaxError(line, f"the document nests more than {MAX_DEPTH} levels deep; refusing to"
                                            " read it")
            node: Any = super().compose_node(parent, index)
            if alias and any(node is ancestor for ancestor in self._open):
                raise YamlSyntaxError(line, "an alias refers to the anchor it is inside of (a document that never"
                                            " ends); refusing to read it")
        finally:
            self._open.pop()
        if alias:
            size, levels = self._sizes[id(node)]
        else:
            below = [self._sizes[id(child)] for child in _children(node)]
            size = 1 + sum(s for s, _ in below)
            levels = 1 + max((depth for _, depth in below), default=0)
            self._sizes[id(node)] = size, levels
        if size > MAX_NODES:
            raise YamlSyntaxError(line, f"the document expands to more than {MAX_NODES:,} values (nested aliases?);"
                                        " refusing to read it")
        if len(self._open) + levels > MAX_DEPTH:
            raise YamlSyntaxError(line, f"the document nests more than {MAX_DEPTH} levels deep once its aliases are"
                                        " expanded; refusing to read it")
        return node


def _children(node: yaml.Node) -> list[yaml.Node]:
    if isinstance(node, yaml.MappingNode):
        return [part for pair in node.value for part in pair]
    if isinstance(node, yaml.SequenceNode):
        return list(node.value)
    return []


def _walk(node: yaml.Node, path: Path_, doc: LocatedDocument) -> None:
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
            _walk(value_node, child, doc)
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            _walk(item, (*path, index), doc)


def load_located(text: str) -> LocatedDocument:
    """Parse one YAML document; raise YamlSyntaxError with a 1-based line on bad syntax or a document too costly
    to expand (see _BoundedLoader)."""
    loader = _BoundedLoader(text)
    try:
        node = loader.get_single_node()
        data = loader.construct_document(node) if node is not None else None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else 1
        problem = (exc.problem or exc.context or "invalid YAML").strip()
        raise YamlSyntaxError(line, f"YAML syntax error: {problem}") from None
    except yaml.YAMLError as exc:  # pragma: no cover - unmarked errors are rare
        raise YamlSyntaxError(1, f"YAML error: {exc}") from None
    finally:
        loader.dispose()
    doc = LocatedDocument(data=data)
    if node is not None:
        _walk(node, (), doc)
    return doc
