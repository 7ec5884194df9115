"""Read shipyard.yaml once, validate it eagerly, and report every problem as `file:line key.path: what`."""

from __future__ import annotations

import difflib
import typing
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from shipyard.config.schema import (
    ComposeEnvironment,
    KubernetesEnvironment,
    ProjectConfig,
    Registry,
    Service,
    VmEnvironment,
)
from shipyard.config.yamlmap import LocatedDocument, Path_, YamlSyntaxError, load_located
from shipyard.errors import ConfigError, ShipyardError
from shipyard.util.locate import CONFIG_NAME, nearest_config
from shipyard.util.merge import deep_merge

TARGETS: dict[str, type[BaseModel]] = {
    "compose": ComposeEnvironment,
    "vm": VmEnvironment,
    "kubernetes": KubernetesEnvironment,
}
AnyEnvironment = ComposeEnvironment | VmEnvironment | KubernetesEnvironment


def format_path(path: Path_) -> str:
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + str(part)
    return out or "(document)"


def _model_at(model: Any, path: Path_, data: Any) -> Any:
    """The pydantic model class that describes the mapping at `path` (None when unknown)."""
    current: Any = model
    node = data
    for part in path:
        if isinstance(current, type) and issubclass(current, BaseModel):
            field = current.model_fields.get(str(part))
            if field is None:
                return None
            current = field.annotation
        else:
            args = typing.get_args(current)
            origin = typing.get_origin(current)
            if origin is dict:
                current = args[1]
            elif origin is list:
                current = args[0]
            elif origin is typing.Annotated:
                current = args[0]
                continue
            else:
                return None
        node = node.get(part) if isinstance(node, dict) else (node[part] if isinstance(node, list)
                                                                and isinstance(part, int)
                                                                and part < len(node) else None)
        current = _unwrap(current, node)
    return current


def _unwrap(annotation: Any, node: Any) -> Any:
    while typing.get_origin(annotation) is typing.Annotated:
        annotation = typing.get_args(annotation)[0]
    args = typing.get_args(annotation)
    if args and all(isinstance(a, type) and issubclass(a, BaseModel) for a in args if a is not type(None)):
        models = [a for a in args if a is not type(None)]
        if isinstance(node, dict) and node.get("target") in TARGETS:
            return TARGETS[node["target"]]
        return models[0] if len(models) == 1 else None
    return annotation


def _message(error: Any, doc_data: Any, model: type[BaseModel]) -> str:
    kind = error["type"]
    loc = tuple(error["loc"])
    ctx = error.get("ctx") or {}
    if kind == "missing":
        return "required key is missing"
    if kind == "extra_forbidden":
        parent = _model_at(model, loc[:-1], doc_data)
        accepted = sorted(parent.model_fields) if isinstance(parent, type) and issubclass(parent, BaseModel) else []
        close = difflib.get_close_matches(str(loc[-1]), accepted, n=1)
        hint = f"; did you mean '{close[0]}'?" if close else ""
        listing = f" (accepted: {', '.join(accepted)})" if accepted else ""
        return f"unknown key{hint}{listing}"
    if kind == "union_tag_invalid":
        return f"must be one of {', '.join(TARGETS)}"
    if kind == "union_tag_not_found":
        return f"required key 'target' is missing (one of {', '.join(TARGETS)})"
    if kind in {"int_type", "int_parsing", "int_from_float"}:
        return "must be an integer"
    if kind in {"float_type", "float_parsing"}:
        return "must be a number"
    if kind in {"string_type"}:
        return "must be a string"
    if kind in {"bool_type", "bool_parsing"}:
        return "must be true or false"
    if kind in {"list_type"}:
        return "must be a list"
    if kind in {"dict_type", "model_type", "model_attributes_type"}:
        return "must be a mapping of keys to values"
    if kind == "literal_error":
        return f"must be one of {ctx.get('expected', '')}"
    if kind in {"greater_than_equal", "less_than_equal", "greater_than", "less_than"}:
        words = {"greater_than_equal": ">=", "less_than_equal": "<=", "greater_than": ">", "less_than": "<"}
        bound = next(iter(ctx.values()), "")
        return f"must be {words[kind]} {bound}"
    if kind == "too_short":
        return f"must have at least {ctx.get('min_length', 1)} item(s)"
    if kind == "value_error":
        return str(error["msg"]).removeprefix("Value error, ")
    return str(error["msg"])


def _clean_loc(loc: tuple[Any, ...]) -> Path_:
    """Drop pydantic's discriminator tag from environment paths."""
    parts = list(loc)
    if len(parts) > 2 and parts[0] == "environments" and parts[2] in TARGETS:
        del parts[2]
    return tuple(parts)


def _problems(exc: ValidationError, doc: LocatedDocument, file: str, model: type[BaseModel],
              prefix: Path_ = (), data: Any = None) -> list[str]:
    out = []
    for error in exc.errors():
        local = _clean_loc(tuple(error["loc"]))
        loc = (*prefix, *local)
        if error["type"] == "union_tag_invalid":
            loc = (*loc, "target")
        message = _message({**error, "loc": local}, data if data is not None else doc.data, model)
        out.append(f"{file}:{doc.line_of(loc)} {format_path(loc)}: {message}")
    return out


@dataclass(frozen=True)
class Config:
    """A validated project: the model, where it came from, and merged per-environment views."""

    project: ProjectConfig
    path: Path
    env_services: dict[str, dict[str, Service]]
    env_registry: dict[str, Registry]

    @property
    def root(self) -> Path:
        return self.path.parent

    def environment(self, name: str) -> AnyEnvironment:
        try:
            return self.project.environments[name]
        except KeyError:
            known = ", ".join(self.project.environments) or "none"
            raise ShipyardError(
                f"unknown environment '{name}' (defined in {self.path.name}: {known})",
                hint=f"add it under environments: in {self.path.name}",
            ) from None

    def services(self, env: str | None = None) -> dict[str, Service]:
        if env is None:
            return dict(self.project.services)
        self.environment(env)
        return self.env_services[env]

    def registry(self, env: str | None = None) -> Registry:
        if env is None:
            return self.project.registry
        self.environment(env)
        return self.env_registry[env]


def _cross_check(project: ProjectConfig, doc: LocatedDocument, file: str) -> list[str]:
    problems = []

    def at(path: Path_, message: str) -> None:
        problems.append(f"{file}:{doc.line_of(path)} {format_path(path)}: {message}")

    known_secrets = ", ".join(project.secrets) or "none defined"
    for name, service in project.services.items():
        for index, secret in enumerate(service.secrets):
            if secret not in project.secrets:
                at(("services", name, "secrets", index), f"unknown secret '{secret}' (secrets: {known_secrets})")
    services = ", ".join(project.services)
    for env_name, env in project.environments.items():
        for svc in env.overrides.services:
            if svc not in project.services:
                at(("environments", env_name, "overrides", "services", svc),
                   f"unknown service '{svc}' (services: {services})")
        if isinstance(env, VmEnvironment):
            for svc in env.deploy.pre_cutover:
                if svc not in project.services:
                    at(("environments", env_name, "deploy", "pre_cutover", svc),
                       f"unknown service '{svc}' (services: {services})")
    return problems


def _registry_secrets(project: ProjectConfig, env_registry: dict[str, Registry], doc: LocatedDocument,
                      file: str) -> list[str]:
    """registry.password (and each environment's override of it) names a declared secret."""
    known = ", ".join(project.secrets) or "none defined"
    problems = []
    views: list[tuple[Path_, Registry]] = [(("registry",), project.registry)]
    views += [(("environments", name, "overrides", "registry"), reg) for name, reg in env_registry.items()
              if "password" in project.environments[name].overrides.registry]
    for path, registry in views:
        if registry.password is not None and registry.password not in project.secrets:
            where = (*path, "password")
            problems.append(f"{file}:{doc.line_of(where)} {format_path(where)}: unknown secret "
                            f"'{registry.password}' (secrets: {known})")
    return problems


def parse(text: str, file: str = CONFIG_NAME, path: Path | None = None) -> Config:
    """Validate configuration text; raise ConfigError listing every problem."""
    try:
        doc = load_located(text)
    except YamlSyntaxError as exc:
        raise ConfigError([f"{file}:{exc.line} (document): {exc.problem}"]) from None
    problems = [f"{file}:{line} {format_path(p)}: duplicate key (each key may appear once)"
                for p, line in doc.duplicates]
    if not isinstance(doc.data, dict):
        raise ConfigError([*problems, f"{file}:1 (document): must be a mapping with project, registry, services"])
    try:
        project = ProjectConfig.model_validate(doc.data)
    except ValidationError as exc:
        raise ConfigError(problems + _problems(exc, doc, file, ProjectConfig)) from None
    problems += _cross_check(project, doc, file)

    env_services: dict[str, dict[str, Service]] = {}
    env_registry: dict[str, Registry] = {}
    raw_services = doc.data["services"]
    for env_name, env in project.environments.items():
        prefix: Path_ = ("environments", env_name, "overrides")
        merged = {}
        for svc_name, raw in raw_services.items():
            over = env.overrides.services.get(svc_name, {})
            try:
                merged[svc_name] = Service.model_validate(deep_merge(raw or {}, over))
            except ValidationError as exc:
                problems += _problems(exc, doc, file, Service, (*prefix, "services", svc_name), over)
        env_services[env_name] = merged
        try:
            env_registry[env_name] = Registry.model_validate(
                deep_merge(doc.data["registry"], env.overrides.registry))
        except ValidationError as exc:
            problems += _problems(exc, doc, file, Registry, (*prefix, "registry"), env.overrides.registry)
    problems += _registry_secrets(project, env_registry, doc, file)
    if problems:
        raise ConfigError(problems)
    return Config(project=project, path=path or Path(file).resolve(),
                  env_services=env_services, env_registry=env_registry)


def find_config(start: Path | None = None) -> Path:
    """$SHIPYARD_CONFIG, or the nearest shipyard.yaml from `start` upwards."""
    found = nearest_config(start)
    if found is None:
        here = (start or Path.cwd()).resolve()
        raise ShipyardError(f"no {CONFIG_NAME} found in {here} or any parent folder",
                            hint="copy docs/shipyard.example.yaml to shipyard.yaml and edit it")
    return found


def read_text(config_path: Path) -> str:
    """The configuration file's text. A missing or unreadable file is one clear error (exit 1); a file that is not
    UTF-8 is a configuration problem naming its line (exit 2), like any other."""
    try:
        data = config_path.read_bytes()
    except FileNotFoundError:
        raise ShipyardError(f"{config_path}: file not found") from None
    except OSError as exc:
        raise ShipyardError(f"{config_path}: cannot read ({exc.strerror or exc.__class__.__name__})") from None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise ConfigError([f"{config_path.name}:{line} (document): not UTF-8 text (byte {exc.start}); save the"
                           " file as UTF-8"]) from None


def load(path: Path | str | None = None) -> Config:
    config_path = Path(path).resolve() if path else find_config()
    return parse(read_text(config_path), file=config_path.name, path=config_path)
