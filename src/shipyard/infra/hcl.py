"""Read Terraform files with python-hcl2: syntax, and what each module directory declares and references.

`terraform validate` needs the provider, which cannot be fetched offline; this reads the same files without
it. One `ModuleDir` per directory of .tf files: its variables, locals, outputs, module calls and every
`var.x`, `local.x` and `module.x.y` it references, each with its file and line. The checks over these facts
live in `tfcheck.py`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from shipyard.infra.problems import Problem

NAME = r"[A-Za-z_][A-Za-z0-9_-]*"
INTERPOLATION_RE = re.compile(r"\$\{([^}]*)\}")
HEREDOC_REF_RE = re.compile(rf"\b(var|local)\.({NAME})|\bmodule\.({NAME})(?:\.({NAME}))?")


@dataclass(frozen=True)
class Ref:
    kind: str  # var, local or module
    name: str
    attr: str | None
    path: Path
    line: int


@dataclass(frozen=True)
class Variable:
    name: str
    required: bool
    path: Path
    line: int


@dataclass
class ModuleCall:
    name: str
    source: str | None
    args: dict[str, int]
    path: Path
    line: int


@dataclass
class ModuleDir:
    path: Path
    files: list[Path] = field(default_factory=list)
    variables: dict[str, Variable] = field(default_factory=dict)
    locals: set[str] = field(default_factory=set)
    outputs: set[str] = field(default_factory=set)
    calls: dict[str, ModuleCall] = field(default_factory=dict)
    refs: list[Ref] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)


def display(path: Path) -> str:
    """A path relative to the working directory when it lies inside it, else absolute."""
    resolved = path.resolve()
    try:
        return str(resolved.relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(resolved)


def syntax_message(exc: Exception) -> tuple[int, str]:
    """(line, one-line description) of a python-hcl2/lark parse error."""
    from lark.exceptions import UnexpectedCharacters, UnexpectedEOF, UnexpectedToken

    if isinstance(exc, UnexpectedToken):
        if exc.token.type == "$END":
            return exc.line if exc.line > 0 else 0, "syntax error: unexpected end of file (unclosed block?)"
        return exc.line, f"syntax error: unexpected {str(exc.token)!r} at column {exc.column}"
    if isinstance(exc, UnexpectedCharacters):
        return exc.line, f"syntax error: unexpected character {exc.char!r} at column {exc.column}"
    if isinstance(exc, UnexpectedEOF):
        return 0, "syntax error: unexpected end of file (unclosed block or string?)"
    first = str(exc).strip().splitlines()[0] if str(exc).strip() else exc.__class__.__name__
    return 0, f"syntax error: {first}"


def parse_file(path: Path) -> tuple[Any, Problem | None]:
    """The raw lark tree of one .tf file, or the Problem that stopped the parser."""
    import hcl2

    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        return None, Problem(display(path), 0, f"cannot read ({exc.__class__.__name__})")
    try:
        return hcl2.parses_to_tree(text), None
    except Exception as exc:  # lark raises several unrelated types; every one is a syntax problem here
        line, message = syntax_message(exc)
        return None, Problem(display(path), line, message)


def _line(node: Any) -> int:
    meta = getattr(node, "meta", None)
    if meta is not None and not getattr(meta, "empty", True):
        return int(meta.line)
    return int(getattr(node, "line", 0) or 0)


def _is_tree(node: Any, data: str | None = None) -> bool:
    from lark import Tree

    return isinstance(node, Tree) and (data is None or node.data == data)


def _identifier(node: Any) -> str | None:
    """The name if `node` is (an expr_term around) a bare identifier."""
    while _is_tree(node, "expr_term") and len(node.children) == 1:
        node = node.children[0]
    if _is_tree(node, "identifier"):
        return str(node.children[0])
    return None


def _text(node: Any) -> str:
    """Literal text of a string or identifier node (interpolations kept as written)."""
    if not _is_tree(node):
        return str(node)
    if node.data == "identifier":
        return str(node.children[0])
    if node.data == "string":
        return "".join(_text(part) for part in node.children if _is_tree(part, "string_part"))
    if node.data == "string_part":
        return "".join(str(c) if not _is_tree(c) else "${...}" for c in node.children)
    return ""


def _chain(node: Any) -> list[str] | None:
    """['module', 'cluster', 'tag'] for a get_attr chain rooted at an identifier, else None."""
    if not _is_tree(node, "get_attr_expr_term"):
        return None
    base, attr = node.children[0], node.children[1]
    names = [str(c.children[0]) for c in attr.children if _is_tree(c, "identifier")]
    if not names:
        return None
    root = _identifier(base)
    if root is not None:
        return [root, names[0]]
    inner = base.children[0] if _is_tree(base, "expr_term") and len(base.children) == 1 else base
    head = _chain(inner)
    return None if head is None else [*head, names[0]]


def _refs(tree: Any, path: Path) -> list[Ref]:
    from lark import Token

    out: list[Ref] = []
    chains: list[tuple[Any, list[str]]] = []
    extended: set[int] = set()  # chain nodes that a longer chain builds on (module.x inside module.x.y)
    for node in tree.iter_subtrees():
        if node.data == "get_attr_expr_term":
            base = node.children[0]
            extended.add(id(base.children[0] if _is_tree(base, "expr_term") and len(base.children) == 1 else base))
            chain = _chain(node)
            if chain:
                chains.append((node, chain))
        elif node.data in ("heredoc_template", "heredoc_template_trim"):
            token = node.children[0]
            text = str(token)
            first = token.line if isinstance(token, Token) and token.line else _line(node)
            for block in INTERPOLATION_RE.finditer(text):
                line = first + text.count("\n", 0, block.start())
                for m in HEREDOC_REF_RE.finditer(block.group(1)):
                    if m.group(1):
                        out.append(Ref(m.group(1), m.group(2), None, path, line))
                    else:
                        out.append(Ref("module", m.group(3), m.group(4), path, line))
    for node, chain in chains:
        if chain[0] in ("var", "local") and len(chain) == 2:
            out.append(Ref(chain[0], chain[1], None, path, _line(node)))
        elif chain[0] == "module" and (len(chain) == 3 or (len(chain) == 2 and id(node) not in extended)):
            out.append(Ref("module", chain[1], chain[2] if len(chain) == 3 else None, path, _line(node)))
    return out


def _blocks(body: Any) -> list[Any]:
    return [c for c in body.children if _is_tree(c, "block")]


def _attributes(body: Any) -> dict[str, tuple[Any, int]]:
    out: dict[str, tuple[Any, int]] = {}
    for c in body.children:
        if _is_tree(c, "attribute"):
            name = str(c.children[0].children[0])
            value = [v for v in c.children[1:] if _is_tree(v)]
            out[name] = (value[-1] if value else None, _line(c))
    return out


def _block_parts(block: Any) -> tuple[str, list[str], Any]:
    kind = str(block.children[0].children[0])
    labels = [_text(c) for c in block.children[1:] if _is_tree(c) and c.data in ("string", "identifier")]
    body = next(c for c in block.children if _is_tree(c, "body"))
    return kind, labels, body


def _string_value(node: Any) -> str | None:
    while _is_tree(node, "expr_term") and len(node.children) == 1:
        node = node.children[0]
    return _text(node) if _is_tree(node, "string") else None


def read_module_dir(directory: Path) -> ModuleDir:
    """Parse every .tf file of one directory (a Terraform module) into its declarations and references."""
    module = ModuleDir(path=directory)
    for path in sorted(directory.glob("*.tf")):
        module.files.append(path)
        tree, problem = parse_file(path)
        if problem is not None:
            module.problems.append(problem)
            continue
        _collect(module, tree, path)
    return module


def _collect(module: ModuleDir, tree: Any, path: Path) -> None:
    body = tree.children[0] if tree.children and _is_tree(tree.children[0], "body") else tree
    for block in _blocks(body):
        kind, labels, inner = _block_parts(block)
        line = _line(block)
        if kind == "variable" and labels:
            if labels[0] in module.variables:
                first = module.variables[labels[0]]
                module.problems.append(Problem(display(path), line, f"variable '{labels[0]}' is declared twice "
                                               f"(first at {display(first.path)}:{first.line})"))
            required = "default" not in _attributes(inner)
            module.variables[labels[0]] = Variable(labels[0], required, path, line)
        elif kind == "locals":
            module.locals.update(_attributes(inner))
        elif kind == "output" and labels:
            module.outputs.add(labels[0])
        elif kind == "module" and labels:
            attrs = _attributes(inner)
            source_node = attrs.get("source", (None, 0))[0]
            source = _string_value(source_node) if source_node is not None else None
            args = {name: at for name, (_, at) in attrs.items()}
            module.calls[labels[0]] = ModuleCall(labels[0], source, args, path, line)
    module.refs.extend(_refs(tree, path))
