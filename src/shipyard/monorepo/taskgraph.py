"""Which tasks each package has, and the graph of tasks one `monorepo.run TASK` executes. Pure."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from shipyard.monorepo.graph import Graph, Package, WorkspaceError, topological

if TYPE_CHECKING:  # pydantic is not imported on the indexed paths
    from shipyard.config.workspace import TaskSpec, WorkspaceConfig


@dataclass(frozen=True)
class TaskDef:
    """A task as resolved for one package: the language default with the package's overrides applied."""

    package: str
    name: str
    command: str
    inputs: tuple[str, ...] | None  # None: every file of the package
    outputs: tuple[str, ...]
    env: tuple[str, ...]
    depends_on: tuple[str, ...]
    cache: bool
    timeout: float | None

    @property
    def id(self) -> str:
        return f"{self.package}#{self.name}"

    def to_json(self) -> list[object]:
        return [self.name, self.command, None if self.inputs is None else list(self.inputs), list(self.outputs),
                list(self.env), list(self.depends_on), self.cache, self.timeout]

    @classmethod
    def from_json(cls, package: str, data: list[object]) -> TaskDef:
        name, command, inputs, outputs, env, depends_on, cache, timeout = data
        if not isinstance(name, str) or not isinstance(command, str) or not isinstance(cache, bool):
            raise TypeError("not a task")

        def strings(value: object) -> tuple[str, ...]:
            if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                raise TypeError("not a list of strings")
            return tuple(value)

        if timeout is not None and not isinstance(timeout, (int, float)):
            raise TypeError("timeout is not a number")
        return cls(package, name, command, None if inputs is None else strings(inputs), strings(outputs),
                   strings(env), strings(depends_on), cache, None if timeout is None else float(timeout))


@dataclass(frozen=True)
class TaskNode:
    task: TaskDef
    package: Package
    deps: tuple[str, ...]  # task ids
    # dependency packages that `^task` looked through because they lack the task: their files are
    # part of this task's key (a source-only workspace package still changes what depends on it)
    sources: tuple[str, ...] = ()

    @property
    def id(self) -> str:
        return self.task.id


@dataclass(frozen=True)
class TaskGraph:
    nodes: dict[str, TaskNode]  # in execution order: dependencies first
    targets: tuple[str, ...]  # ids asked for (the rest are dependencies pulled in)

    def dependents(self) -> dict[str, list[str]]:
        out: dict[str, list[str]] = {i: [] for i in self.nodes}
        for node in self.nodes.values():
            for dep in node.deps:
                out[dep].append(node.id)
        return out


def overrides_by_package(config: WorkspaceConfig, graph: Graph) -> dict[str, dict[str, TaskSpec | None]]:
    out: dict[str, dict[str, TaskSpec | None]] = {}
    for ref, settings in config.overrides.items():
        found = graph.find(ref)
        if found is not None:
            out.setdefault(found.name, {}).update(settings.tasks)
    return out


def package_tasks(config: WorkspaceConfig, package: Package, overrides: dict[str, TaskSpec | None],
                  config_name: str = "shipyard.yaml") -> dict[str, TaskDef]:
    specs: dict[str, TaskSpec] = dict(config.defaults.get(package.language, {}))
    for name, override in overrides.items():
        if override is None:
            specs.pop(name, None)
        elif name in specs:
            specs[name] = specs[name].merged(override)
        else:
            specs[name] = override
    out = {}
    for name, spec in specs.items():
        if spec.command is None:
            raise WorkspaceError(f"{config_name}: task '{name}' of package {package.name} has no command",
                                 hint=f"set workspace.overrides.{package.name}.tasks.{name}.command")
        out[name] = TaskDef(package=package.name, name=name, command=spec.command,
                            inputs=tuple(spec.inputs) if spec.inputs is not None else None,
                            outputs=tuple(spec.outputs), env=tuple(spec.env), depends_on=tuple(spec.depends_on),
                            cache=spec.cache, timeout=spec.timeout)
    return out


def all_tasks(config: WorkspaceConfig, graph: Graph, config_name: str = "shipyard.yaml"
              ) -> dict[str, dict[str, TaskDef]]:
    by_pkg = overrides_by_package(config, graph)
    return {name: package_tasks(config, pkg, by_pkg.get(name, {}), config_name)
            for name, pkg in graph.packages.items()}


def _providers(graph: Graph, tasks: dict[str, dict[str, TaskDef]], package: str, task: str
               ) -> tuple[set[str], set[str]]:
    """For `package`'s `^task`: the dependencies that have the task (looking through those that don't),
    and the ones looked through."""
    out: set[str] = set()
    through: set[str] = set()
    stack = list(graph.deps[package])
    while stack:
        dep = stack.pop()
        if dep in out or dep in through:
            continue
        if task in tasks[dep]:
            out.add(dep)
        else:
            through.add(dep)
            stack.extend(graph.deps[dep])
    return out, through


def _task_deps(graph: Graph, tasks: dict[str, dict[str, TaskDef]], t: TaskDef) -> tuple[list[str], set[str]]:
    out: list[str] = []
    sources: set[str] = set()
    for ref in t.depends_on:
        if ref.startswith("^"):
            name = ref[1:]
            providers, through = _providers(graph, tasks, t.package, name)
            out += [f"{dep}#{name}" for dep in sorted(providers)]
            sources |= through
        elif "#" in ref:
            pkg_ref, name = ref.rsplit("#", 1)
            pkg = graph.find(pkg_ref)
            if pkg is None or name not in tasks[pkg.name]:
                raise WorkspaceError(f"task {t.id} depends on '{ref}', which does not exist",
                                     hint="check depends_on in workspace.defaults / workspace.overrides")
            out.append(f"{pkg.name}#{name}")
        elif ref in tasks[t.package]:
            out.append(f"{t.package}#{ref}")
    return out, sources


def plan(graph: Graph, tasks: dict[str, dict[str, TaskDef]], task: str,
         packages: Iterable[str] | None = None) -> TaskGraph:
    """The tasks to run for `task` in `packages` (default all), plus every task they depend on."""
    wanted = list(graph.packages) if packages is None else [p for p in graph.packages if p in set(packages)]
    targets = [f"{p}#{task}" for p in wanted if task in tasks[p]]
    nodes: dict[str, TaskNode] = {}
    stack = list(reversed(targets))
    while stack:
        tid = stack.pop()
        if tid in nodes:
            continue
        pkg, name = tid.rsplit("#", 1)
        t = tasks[pkg][name]
        dep_list, sources = _task_deps(graph, tasks, t)
        deps = tuple(dict.fromkeys(dep_list))
        nodes[tid] = TaskNode(task=t, package=graph.packages[pkg], deps=deps, sources=tuple(sorted(sources)))
        stack.extend(d for d in deps if d not in nodes)
    pkg_rank = {name: i for i, name in enumerate(graph.order())}
    hint = sorted(nodes, key=lambda i: (pkg_rank[nodes[i].task.package], i))
    order = topological({i: nodes[i].deps for i in nodes}, hint)
    return TaskGraph(nodes={i: nodes[i] for i in order}, targets=tuple(targets))


def defined_task_names(tasks: dict[str, dict[str, TaskDef]]) -> list[str]:
    return sorted({name for per_pkg in tasks.values() for name in per_pkg})
