"""Offline checks over a tree of Terraform modules: what `terraform validate` would say without a provider.

Every problem is one line, `file:line: what is wrong`:
- a .tf file that does not parse (python-hcl2);
- `var.x` / `local.x` used but not declared in the module's directory;
- a module call whose local `source` directory does not exist or holds no .tf file;
- an input passed to a module that the module does not declare, or a required input not passed;
- `module.x` that is not called here, or `module.x.y` where module x has no output y.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from pathlib import Path

from shipyard.infra.hcl import ModuleCall, ModuleDir, Ref, display, read_module_dir
from shipyard.infra.problems import Problem

META_ARGUMENTS = frozenset({"source", "version", "count", "for_each", "providers", "depends_on"})


@dataclass(frozen=True)
class Report:
    problems: list[Problem]
    files: int
    modules: int


def module_dirs(root: Path) -> list[Path]:
    """Every directory under root (root included) holding .tf files, skipping hidden ones (.terraform)."""
    found = {p.parent for p in root.rglob("*.tf") if not any(part.startswith(".") for part in
                                                             p.relative_to(root).parts)}
    return sorted(found)


def _hint(name: str, known: set[str] | list[str]) -> str:
    close = difflib.get_close_matches(name, sorted(known), n=1)
    if close:
        return f"; did you mean '{close[0]}'?"
    return f" (declared: {', '.join(sorted(known))})" if known else " (none declared)"


def _is_local_source(source: str) -> bool:
    return source.startswith(("./", "../"))


class Checker:
    def __init__(self) -> None:
        self._cache: dict[Path, ModuleDir] = {}

    def module(self, directory: Path) -> ModuleDir:
        key = directory.resolve()
        if key not in self._cache:
            self._cache[key] = read_module_dir(key)
        return self._cache[key]

    def check_dir(self, directory: Path) -> list[Problem]:
        module = self.module(directory)
        problems = list(module.problems)
        for ref in module.refs:
            problems.extend(self._check_ref(module, ref))
        for call in module.calls.values():
            problems.extend(self._check_call(module, call))
        return problems

    def _target(self, module: ModuleDir, call: ModuleCall) -> ModuleDir | None:
        if call.source is None or not _is_local_source(call.source):
            return None
        target = (module.path / call.source).resolve()
        if not target.is_dir() or not any(target.glob("*.tf")):
            return None
        return self.module(target)

    def _check_ref(self, module: ModuleDir, ref: Ref) -> list[Problem]:
        at = (display(ref.path), ref.line)
        if ref.kind == "var" and ref.name not in module.variables:
            return [Problem(*at, f"undeclared variable var.{ref.name}{_hint(ref.name, set(module.variables))}")]
        if ref.kind == "local" and ref.name not in module.locals:
            return [Problem(*at, f"undeclared local value local.{ref.name}{_hint(ref.name, module.locals)}")]
        if ref.kind == "module":
            call = module.calls.get(ref.name)
            if call is None:
                return [Problem(*at, f"module.{ref.name} is not called in this directory"
                                     f"{_hint(ref.name, set(module.calls))}")]
            target = self._target(module, call)
            if target is not None and ref.attr is not None and ref.attr not in target.outputs \
                    and not target.problems:
                return [Problem(*at, f"module.{ref.name}.{ref.attr}: module '{ref.name}' ({call.source}) has no "
                                     f"output '{ref.attr}'{_hint(ref.attr, target.outputs)}")]
        return []

    def _check_call(self, module: ModuleDir, call: ModuleCall) -> list[Problem]:
        at = (display(call.path), call.line)
        if call.source is None:
            return [Problem(*at, f"module '{call.name}' has no source")]
        if not _is_local_source(call.source):
            return []  # registry or git sources cannot be fetched offline; terraform init checks them
        target_path = (module.path / call.source).resolve()
        if not target_path.is_dir():
            return [Problem(*at, f"module '{call.name}': source {call.source} does not exist "
                                 f"(looked for {display(target_path)})")]
        target = self._target(module, call)
        if target is None:
            return [Problem(*at, f"module '{call.name}': source {call.source} holds no .tf file")]
        if target.problems:
            return []  # its own syntax errors are reported where they are
        problems = []
        for arg, line in call.args.items():
            if arg not in META_ARGUMENTS and arg not in target.variables:
                problems.append(Problem(display(call.path), line, f"module '{call.name}': unknown input '{arg}'"
                                        f"{_hint(arg, set(target.variables))}"))
        for variable in target.variables.values():
            if variable.required and variable.name not in call.args:
                problems.append(Problem(*at, f"module '{call.name}': required input '{variable.name}' is not set "
                                             f"(declared at {display(variable.path)}:{variable.line})"))
        return problems


def check_tree(root: Path) -> Report:
    """Check every module directory under root; problems sorted by file and line."""
    checker = Checker()
    dirs = module_dirs(root)
    problems: list[Problem] = []
    files = 0
    for directory in dirs:
        problems.extend(checker.check_dir(directory))
        files += len(checker.module(directory).files)
    return Report(sorted(set(problems)), files, len(dirs))
