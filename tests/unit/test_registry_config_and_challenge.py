"""The registry's answers (auth challenges, token and tag lists) and the registry credentials in shipyard.yaml."""

from __future__ import annotations

from typing import Any

import pytest

from shipyard.config import parse
from shipyard.errors import ConfigError
from shipyard.facts.registry import Challenge, UnexpectedAnswer, parse_challenge, tags_of, token_of

DOCKER_HUB = ('Bearer realm="https://auth.docker.io/token",service="registry.docker.io",'
              'scope="repository:library/alpine:pull"')


@pytest.mark.parametrize(("header", "expected"), [
    (DOCKER_HUB, Challenge("bearer", {"realm": "https://auth.docker.io/token", "service": "registry.docker.io",
                                      "scope": "repository:library/alpine:pull"})),
    # GHCR: several actions in one scope (a comma inside quotes), spaces after commas
    ('Bearer realm="https://ghcr.io/token", service="ghcr.io", scope="repository:acme/api:pull,push"',
     Challenge("bearer", {"realm": "https://ghcr.io/token", "service": "ghcr.io",
                          "scope": "repository:acme/api:pull,push"})),
    # distribution's /v2/ ping: no scope; scheme and parameter names are case-insensitive
    ('bearer Realm="http://127.0.0.1:5001/auth",Service="local"',
     Challenge("bearer", {"realm": "http://127.0.0.1:5001/auth", "service": "local"})),
    ('Basic realm="Registry Realm"', Challenge("basic", {"realm": "Registry Realm"})),
    ('Basic realm="a \\"quoted\\" realm, with a comma"',
     Challenge("basic", {"realm": 'a "quoted" realm, with a comma'})),
    ("Basic realm=bare-token", Challenge("basic", {"realm": "bare-token"})),
    ("Basic", Challenge("basic", {})),
])
def test_challenges_parse(header: str, expected: Challenge) -> None:
    assert parse_challenge(header) == expected


def test_challenge_properties() -> None:
    challenge = parse_challenge(DOCKER_HUB)
    assert (challenge.realm, challenge.service, challenge.scope) == (
        "https://auth.docker.io/token", "registry.docker.io", "repository:library/alpine:pull")


@pytest.mark.parametrize("header", [
    "",                                        # nothing
    "=realm",                                  # no scheme
    'Bearer service="x"',                      # a bearer challenge must say where tokens come from
    'Bearer realm="https://a/token" service',  # a parameter without a value
    'Basic realm="unterminated',               # an open quote
])
def test_malformed_challenges_are_refused(header: str) -> None:
    with pytest.raises(UnexpectedAnswer):
        parse_challenge(header)


@pytest.mark.parametrize(("answer", "token"), [({"token": "t1"}, "t1"), ({"access_token": "t2"}, "t2"),
                                               ({"token": "t1", "access_token": "t2"}, "t1")])
def test_token_answers(answer: dict[str, str], token: str) -> None:
    assert token_of(answer) == token


@pytest.mark.parametrize("answer", [{}, {"token": ""}, {"token": 3}, ["token"], None])
def test_token_answer_without_a_token(answer: Any) -> None:
    with pytest.raises(UnexpectedAnswer):
        token_of(answer)


def test_tag_lists() -> None:
    assert tags_of({"name": "a/b", "tags": ["b", "a"]}) == ["a", "b"]
    assert tags_of({"name": "a/b", "tags": None}) == []  # distribution says null for a repository without tags
    with pytest.raises(UnexpectedAnswer):
        tags_of(["a"])


# --- configuration -------------------------------------------------------------------------------------------
BASE = """\
project: demo
registry:
  address: registry.example:5443
  namespace: demo
  username: ci
  password: REGISTRY_PASSWORD
  ca: ~/.config/shipyard/registry-ca.pem
services:
  api:
    port: 8000
secrets:
  REGISTRY_PASSWORD: {env: REGISTRY_PASSWORD}
  OTHER_TOKEN: {file: ~/.config/shipyard/other}
environments:
  staging:
    target: vm
    hosts: [10.0.0.1]
    overrides:
      registry:
        username: staging-ci
        password: OTHER_TOKEN
"""


def replace(old: str, new: str) -> str:
    assert old in BASE, old
    return BASE.replace(old, new, 1)


def test_credentials_by_reference_per_environment() -> None:
    config = parse(BASE)
    top, staging = config.registry(), config.registry("staging")
    assert (top.username, top.password, top.ca) == ("ci", "REGISTRY_PASSWORD", "~/.config/shipyard/registry-ca.pem")
    assert (staging.username, staging.password, staging.ca) == ("staging-ci", "OTHER_TOKEN", top.ca)
    anonymous = parse(replace("  username: ci\n  password: REGISTRY_PASSWORD\n", "")
                      .replace("        username: staging-ci\n        password: OTHER_TOKEN\n", "        retain: 3\n"))
    assert anonymous.registry("staging").username is None and anonymous.registry("staging").password is None


@pytest.mark.parametrize(("text", "expected"), [
    (replace("  password: REGISTRY_PASSWORD\n", ""),
     "shipyard.yaml:2 registry: give both 'username' and 'password' (a secret's name), or neither (anonymous)"),
    (replace("  username: ci\n", ""),
     "shipyard.yaml:2 registry: give both 'username' and 'password' (a secret's name), or neither (anonymous)"),
    (replace("password: REGISTRY_PASSWORD", "password: hunter2-literal"),
     "shipyard.yaml:6 registry.password: must name a secret of `secrets:` (UPPER_SNAKE_CASE), never the password"
     " itself"),
    (replace("password: REGISTRY_PASSWORD", "password: NOT_DECLARED"),
     "shipyard.yaml:6 registry.password: unknown secret 'NOT_DECLARED' (secrets: REGISTRY_PASSWORD, OTHER_TOKEN)"),
    (replace("password: OTHER_TOKEN", "password: MISSING_TOO"),
     "shipyard.yaml:21 environments.staging.overrides.registry.password: unknown secret 'MISSING_TOO' (secrets:"
     " REGISTRY_PASSWORD, OTHER_TOKEN)"),
    (replace("username: ci", "username: 'c i'"),
     "shipyard.yaml:5 registry.username: must be a non-empty user name without spaces"),
    (replace("username: staging-ci", "username: ''"),
     "shipyard.yaml:20 environments.staging.overrides.registry.username: must be a non-empty user name without"
     " spaces"),
    (replace("ca: ~/.config/shipyard/registry-ca.pem", "ca: ' '"),
     "shipyard.yaml:7 registry.ca: must be the path of a PEM file"),
    (replace("  password: REGISTRY_PASSWORD", "  pasword: REGISTRY_PASSWORD"),
     "shipyard.yaml:6 registry.pasword: unknown key; did you mean 'password'? (accepted: address, ca, insecure,"
     " namespace, password, retain, username)"),
])
def test_each_registry_check_fails_with_its_key_path(text: str, expected: str) -> None:
    with pytest.raises(ConfigError) as info:
        parse(text)
    assert info.value.problems[0] == expected
    assert "\n" not in str(info.value)


# --- hosts pull with the login's Docker config --------------------------------------------------------------------
def test_pull_steps_use_the_login_docker_config_only_when_there_are_credentials() -> None:
    from shipyard.commands.haproxy import Backend
    from shipyard.commands.layout import HostLayout
    from shipyard.plans import bluegreen as bg

    layout = HostLayout("demo")
    desired = bg.Desired("app", "reg.example/demo/app:b", "b", 8000, "/ready", public=True)
    plan = bg.plan_host("h1", [desired], {})  # nothing on the host: the image is pulled

    def pulls(config: str | None) -> list[tuple[str, ...]]:
        ctx = bg.Context(layout=layout, backends=(Backend("app", 8000, "/ready", None),), public="app", http_port=80,
                         bind="127.0.0.1", health_timeout=30, watch_window=5, docker_config=config)
        return [s.argv for s in bg.describe(plan, ctx) if s.phase == "pull"]

    assert pulls(layout.docker_config) == [("docker", "--config", "/var/lib/shipyard/demo/docker", "pull",
                                            "reg.example/demo/app:b")]
    assert pulls(None) == [("docker", "pull", "reg.example/demo/app:b")]


def test_a_target_logs_in_only_with_credentials() -> None:
    from shipyard.targets.vm.target import Target

    config = parse(BASE)
    target = Target.from_config(config, "staging")
    login = target.host_login()
    assert login is not None and (login.address, login.username, login.config_dir) == (
        "registry.example:5443", "staging-ci", "/var/lib/shipyard/demo/docker")
    assert target.docker_config == "/var/lib/shipyard/demo/docker" and "password" not in repr(login).lower()
    anonymous = parse(replace("  username: ci\n  password: REGISTRY_PASSWORD\n", "")
                      .replace("        username: staging-ci\n        password: OTHER_TOKEN\n", "        retain: 3\n"))
    plain = Target.from_config(anonymous, "staging")
    assert plain.host_login() is None and plain.docker_config is None and plain.registry_credentials() is None
