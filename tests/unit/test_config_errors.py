"""Malformed configurations: each gives one expected line `file:line key.path: what`, never a traceback."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from shipyard.config import parse
from shipyard.errors import ConfigError

BASE = """\
project: demo
registry:
  address: 127.0.0.1:5000
  namespace: demo
services:
  api:
    port: 8000
    secrets: [DB_PASSWORD]
  web:
    port: 3000
secrets:
  DB_PASSWORD: {env: DB_PASSWORD}
environments:
  staging:
    target: vm
    hosts:
      - 10.0.0.1
      - 10.0.0.2
"""


def replace(old: str, new: str) -> str:
    assert old in BASE, old
    return BASE.replace(old, new, 1)


CASES = [
    # (id, text, expected first problem)
    ("yaml-syntax-tab", replace("    port: 3000", "\tport: 3000"),
     "shipyard.yaml:10 (document): YAML syntax error: found character '\\t' that cannot start any token"),
    ("yaml-unclosed-flow", replace("{env: DB_PASSWORD}", "{env: DB_PASSWORD"),
     "shipyard.yaml:13 (document): YAML syntax error: expected ',' or '}', but got ':'"),
    ("not-a-mapping", "- just\n- a list\n",
     "shipyard.yaml:1 (document): must be a mapping with project, registry, services"),
    ("empty-document", "",
     "shipyard.yaml:1 (document): must be a mapping with project, registry, services"),
    ("missing-project", BASE.replace("project: demo\n", ""),
     "shipyard.yaml:1 project: required key is missing"),
    ("missing-registry-address", replace("  address: 127.0.0.1:5000\n", ""),
     "shipyard.yaml:2 registry.address: required key is missing"),
    ("missing-service-port", replace("    port: 3000\n", "    dockerfile: web.Dockerfile\n"),
     "shipyard.yaml:9 services.web.port: required key is missing"),
    ("port-wrong-type", replace("port: 8000", "port: eighty"),
     "shipyard.yaml:7 services.api.port: must be an integer"),
    ("port-out-of-range", replace("port: 8000", "port: 70000"),
     "shipyard.yaml:7 services.api.port: must be <= 65535"),
    ("retain-too-small", replace("  namespace: demo\n", "  namespace: demo\n  retain: 1\n"),
     "shipyard.yaml:5 registry.retain: must be >= 2"),
    ("unknown-top-key", BASE + "deploy_everything: true\n",
     "shipyard.yaml:19 deploy_everything: unknown key (accepted: build, environments, project, registry, secrets, "
     "services, workspace)"),
    ("unknown-service-key-typo", replace("    port: 3000", "    port: 3000\n    dockerfle: x"),
     "shipyard.yaml:11 services.web.dockerfle: unknown key; did you mean 'dockerfile'? (accepted: context, "
     "dockerfile, env, health, package, port, public, release_command, requires, route, secrets)"),
    ("duplicate-service", replace("  web:\n    port: 3000\n", "  web:\n    port: 3000\n  api:\n    port: 9000\n"),
     "shipyard.yaml:11 services.api: duplicate key (each key may appear once)"),
    ("no-services", BASE.split("services:")[0] + "services: {}\n",
     "shipyard.yaml:5 services: must have at least 1 item(s)"),
    ("bad-service-name", replace("  web:", "  Web_App:"),
     "shipyard.yaml:5 services: service name 'Web_App' must be lowercase letters, digits and '-', "
     "starting with a letter"),
    ("bad-host", replace("      - 10.0.0.2", "      - not a host!"),
     "shipyard.yaml:18 environments.staging.hosts[1]: not a host name or address"),
    ("bad-host-port", replace("      - 10.0.0.2", "      - 10.0.0.2:ssh"),
     "shipyard.yaml:18 environments.staging.hosts[1]: not a host name or address (expected host or host:port)"),
    ("duplicate-host", replace("      - 10.0.0.2", "      - 10.0.0.1"),
     "shipyard.yaml:14 environments.staging: host 10.0.0.1 is listed twice"),
    ("no-hosts", replace("    hosts:\n      - 10.0.0.1\n      - 10.0.0.2\n", "    hosts: []\n"),
     "shipyard.yaml:16 environments.staging.hosts: must have at least 1 item(s)"),
    ("unknown-target", replace("target: vm", "target: lambda"),
     "shipyard.yaml:15 environments.staging.target: must be one of compose, vm, kubernetes"),
    ("missing-target", replace("    target: vm\n", ""),
     "shipyard.yaml:14 environments.staging: required key 'target' is missing (one of compose, vm, kubernetes)"),
    ("strategy-literal", replace("    target: vm\n", "    target: vm\n    deploy: {strategy: yolo}\n"),
     "shipyard.yaml:16 environments.staging.deploy.strategy: must be one of 'parallel' or 'rolling'"),
    ("ssh-port-type", replace("    target: vm\n", "    target: vm\n    ssh: {port: [22]}\n"),
     "shipyard.yaml:16 environments.staging.ssh.port: must be an integer"),
    ("hosts-not-list", replace("    hosts:\n      - 10.0.0.1\n      - 10.0.0.2\n", "    hosts: {a: 1}\n"),
     "shipyard.yaml:16 environments.staging.hosts: must be a list"),
    ("unknown-secret-ref", replace("secrets: [DB_PASSWORD]", "secrets: [DB_PASSWORD, API_TOKEN]"),
     "shipyard.yaml:8 services.api.secrets[1]: unknown secret 'API_TOKEN' (secrets: DB_PASSWORD)"),
    ("secret-two-sources", replace("{env: DB_PASSWORD}", "{env: DB_PASSWORD, file: /run/db}"),
     "shipyard.yaml:12 secrets.DB_PASSWORD: give exactly one of 'env' (an environment variable) or 'file' "
     "(a path outside git)"),
    ("secret-value-inline", replace("{env: DB_PASSWORD}", "{value: hunter22}"),
     "shipyard.yaml:12 secrets.DB_PASSWORD.value: unknown key (accepted: description, env, file)"),
    ("secret-name-case", replace("  DB_PASSWORD: {env", "  db_password: {env"),
     "shipyard.yaml:11 secrets: secret name 'db_password' must be UPPER_SNAKE_CASE"),
    ("override-unknown-service", BASE + "    overrides:\n      services:\n        worker: {port: 1}\n",
     "shipyard.yaml:21 environments.staging.overrides.services.worker: unknown service 'worker' (services: api, "
     "web)"),
    ("override-bad-value", BASE + "    overrides:\n      services:\n        api: {port: -1}\n",
     "shipyard.yaml:21 environments.staging.overrides.services.api.port: must be >= 1"),
    ("pre-cutover-unknown-service", replace("    target: vm\n",
                                            "    target: vm\n    deploy:\n      pre_cutover: {db: migrate}\n"),
     "shipyard.yaml:17 environments.staging.deploy.pre_cutover.db: unknown service 'db' (services: api, web)"),
    ("k8s-two-renderers", BASE + "  k8s:\n    target: kubernetes\n    context: c\n    overlay: k\n    chart: h\n",
     "shipyard.yaml:19 environments.k8s: give exactly one of 'overlay' (a Kustomize directory) or 'chart' "
     "(a Helm chart)"),
    ("k8s-missing-context", BASE + "  k8s:\n    target: kubernetes\n    overlay: k\n",
     "shipyard.yaml:19 environments.k8s.context: required key is missing"),
    ("registry-bad-address", replace("address: 127.0.0.1:5000", "address: 'http://reg'"),
     "shipyard.yaml:3 registry.address: must be a registry host, optionally with :port (for example ghcr.io or "
     "127.0.0.1:5000)"),
    ("health-path-relative", replace("    port: 3000", "    port: 3000\n    health: {liveness: healthz}"),
     "shipyard.yaml:11 services.web.health.liveness: must be an absolute HTTP path starting with '/'"),
    ("public-not-bool", replace("    port: 3000", "    port: 3000\n    public: maybe"),
     "shipyard.yaml:11 services.web.public: must be true or false"),
    ("accessory-unknown-host", BASE + "    accessories:\n      db: {image: postgres:16, port: 5432, host: 10.9.9.9}\n",
     "shipyard.yaml:14 environments.staging: accessory 'db': host '10.9.9.9' is not one of this environment's hosts"
     " (or 'first', 'all')"),
    ("accessory-needs-private-address", BASE + "    accessories:\n      db: {image: postgres:16, port: 5432}\n",
     "shipyard.yaml:14 environments.staging: accessory 'db': its host 10.0.0.1 needs a private_address (the address"
     " the other hosts reach it on, never a public one)"),
    ("accessory-volume-relative", BASE + "    accessories:\n      db: {image: postgres:16, port: 5432, host: all,"
     " volumes: {pgdata: data}}\n",
     "shipyard.yaml:20 environments.staging.accessories.db.volumes: volume 'pgdata': the path in the container must"
     " be absolute"),
    ("private-address-invalid", replace("      - 10.0.0.2", "      - {address: 10.0.0.2, private_address: 'a b'}"),
     "shipyard.yaml:18 environments.staging.hosts[1].private_address: not a host name or address"),
    ("port-boolean", replace("port: 8000", "port: true"),
     "shipyard.yaml:7 services.api.port: must be an integer"),
    ("route-trailing-slash", replace("    port: 3000", "    port: 3000\n    route: /api/"),
     "shipyard.yaml:11 services.web.route: must be a path prefix such as /api/v1 (starting with '/', no trailing '/')"),
    ("env-name-invalid", replace("  staging:", "  Staging Env:"),
     "shipyard.yaml:13 environments: environment name 'Staging Env' must be lowercase letters, digits and '-', "
     "starting with a letter"),
    ("build-platform", replace("services:", "build: {platform: amd64}\nservices:"),
     "shipyard.yaml:5 build.platform: must be os/architecture[/variant], for example linux/amd64 or linux/arm64"),
    ("build-arg-name", replace("services:", "build:\n  args: {BASE IMAGE: x}\nservices:"),
     "shipyard.yaml:6 build.args: build arg name 'BASE IMAGE' must be a Dockerfile ARG name (letters, digits, _)"),
]


@pytest.mark.parametrize(("text", "expected"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_malformed_config_gives_expected_line(text: str, expected: str) -> None:
    with pytest.raises(ConfigError) as info:
        parse(text)
    assert info.value.problems[0] == expected
    assert "\n" not in str(info.value)


def test_at_least_25_cases() -> None:
    assert len(CASES) >= 25


def test_all_problems_are_collected() -> None:
    text = replace("port: 8000", "port: x").replace("      - 10.0.0.2", "      - bad host")
    with pytest.raises(ConfigError) as info:
        parse(text)
    assert [p.split(" ")[1].rstrip(":") for p in info.value.problems] == [
        "services.api.port", "environments.staging.hosts[1]"]
    assert "and 1 more problem(s)" in str(info.value)


@pytest.mark.parametrize("case", ["unknown-target", "yaml-syntax-tab", "bad-host"])
def test_cli_prints_one_line_and_no_traceback(tmp_path: Path, case: str) -> None:
    text, expected = next((c[1], c[2]) for c in CASES if c[0] == case)
    (tmp_path / "shipyard.yaml").write_text(text)
    proc = subprocess.run([sys.executable, "-c", "from shipyard.cli import main; main()", "release.info"],
                          cwd=tmp_path, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr + proc.stdout
    assert proc.stderr.strip() == f"error: {expected}"


def test_config_check_lists_every_problem(tmp_path: Path) -> None:
    text = replace("port: 8000", "port: x").replace("      - 10.0.0.2", "      - bad host")
    (tmp_path / "shipyard.yaml").write_text(textwrap.dedent(text))
    proc = subprocess.run([sys.executable, "-c", "from shipyard.cli import main; main()", "config.check"],
                          cwd=tmp_path, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2
    assert proc.stdout.splitlines() == [
        "shipyard.yaml:7 services.api.port: must be an integer",
        "shipyard.yaml:18 environments.staging.hosts[1]: not a host name or address",
    ]
    assert "Traceback" not in proc.stderr


@pytest.mark.parametrize(("content", "expected", "code"), [
    (None, "error: {path}: file not found", 1),
    (b"project: demo\nregistry: d\xffmo\n", "error: other.yaml:2 (document): not UTF-8 text (byte 25); save the"
                                             " file as UTF-8", 2),
])
def test_config_check_of_a_missing_or_undecodable_file_is_one_line(tmp_path: Path, content: bytes | None,
                                                                   expected: str, code: int) -> None:
    path = tmp_path / "other.yaml"
    if content is not None:
        path.write_bytes(content)
    (tmp_path / "shipyard.yaml").write_text(BASE)
    proc = subprocess.run([sys.executable, "-c", "from shipyard.cli import main; main()", "config.check",
                           "--file", str(path)], cwd=tmp_path, capture_output=True, text=True, timeout=60)
    assert proc.returncode == code and "Traceback" not in proc.stderr
    assert proc.stderr.strip() == expected.format(path=path)


def test_a_secret_too_short_to_mask_is_one_line(tmp_path: Path) -> None:
    from shipyard.config.secrets import resolve
    from shipyard.errors import SecretError

    config = parse(BASE)
    with pytest.raises(SecretError, match="secret DB_PASSWORD: its value is shorter than 4 characters"):
        resolve(config, ["DB_PASSWORD"], environ={"DB_PASSWORD": "abc"})


def test_nested_aliases_are_refused_at_once() -> None:
    laughs = "a: &a [x, x, x, x, x, x, x, x, x, x]\n" + "".join(
        f"{chr(98 + i)}: &{chr(98 + i)} [*{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, "
        f"*{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}]\n"
        for i in range(8))
    with pytest.raises(ConfigError) as info:  # refused while reading, before a validation that took minutes
        parse(laughs)
    assert "expands to more than 50,000 values (nested aliases?)" in info.value.problems[0]


def _alias_chain(links: int, depth: int) -> str:
    """`links` anchors, each nesting the previous one `depth` lists deeper: small, but very deep once expanded."""
    text = f"a0: &a0 {'[' * depth}x{']' * depth}\n"
    return text + "".join(f"a{i}: &a{i} {'[' * depth}*a{i - 1}{']' * depth}\n" for i in range(1, links))


@pytest.mark.parametrize(("text", "expected"), [
    ("project: " + "[" * 5000 + "]" * 5000 + "\n",
     "shipyard.yaml:1 (document): the document nests more than 100 levels deep; refusing to read it"),
    (_alias_chain(links=400, depth=60), "shipyard.yaml:2 (document): the document nests more than 100 levels deep"
                                        " once its aliases are expanded; refusing to read it"),
    ("project: x\nself: &me {again: [*me]}\n", "shipyard.yaml:2 (document): an alias refers to the anchor it is"
                                              " inside of (a document that never ends); refusing to read it"),
])
def test_documents_too_deep_or_endless_are_refused_at_once(text: str, expected: str) -> None:
    started = time.monotonic()
    with pytest.raises(ConfigError) as info:  # each was a RecursionError traceback
        parse(text)
    assert info.value.problems == [expected]
    assert time.monotonic() - started < 5  # a sanity bound: each takes milliseconds


def test_anchors_and_aliases_of_a_real_configuration_still_load() -> None:
    config = parse(BASE + "  other: &shared {target: vm, hosts: [10.0.0.9]}\n  copy: *shared\n")
    assert config.project.environments["copy"] == config.project.environments["other"]
