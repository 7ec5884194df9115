"""What a Docker registry's answers say: the `WWW-Authenticate` challenge of a 401, a token answer. Pure.

A registry that delegates authentication (Docker Hub, GHCR, DOCR, distribution with `auth: token`) answers 401 with
`WWW-Authenticate: Bearer realm="https://auth.example/token",service="registry.example",scope="repository:a/b:pull"`;
the client then asks the realm for a bearer token with its basic credentials. One with `auth: htpasswd` answers
`Basic realm="..."`, and the client repeats the request with basic credentials.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

_HTTP_TOKEN = r"[!#$%&'*+.^_`|~0-9A-Za-z-]+"  # noqa: S105 - an RFC 9110 token (a word), not a secret
_PARAM = re.compile(rf'\s*({_HTTP_TOKEN})\s*=\s*(?:"((?:[^"\\]|\\.)*)"|({_HTTP_TOKEN}))\s*(?:,|$)')


class UnexpectedAnswer(ValueError):
    """A registry answer this client cannot read (a malformed challenge, no token, no tag list)."""


@dataclass(frozen=True)
class Challenge:
    scheme: str  # lowercased: "bearer" or "basic"
    params: dict[str, str] = field(default_factory=dict)  # parameter names lowercased

    @property
    def realm(self) -> str | None:
        return self.params.get("realm")

    @property
    def service(self) -> str | None:
        return self.params.get("service")

    @property
    def scope(self) -> str | None:
        return self.params.get("scope")


def parse_challenge(header: str) -> Challenge:
    """`Bearer realm="...",service="...",scope="..."` -> Challenge. Quoted values may hold commas and `\\"`."""
    text = header.strip()
    match = re.match(rf"({_HTTP_TOKEN})(?:\s+|$)", text)
    if not match:
        raise UnexpectedAnswer(f"not an authentication challenge: {header[:80]!r}")
    scheme = match.group(1).lower()
    rest = text[match.end():]
    params: dict[str, str] = {}
    position = 0
    while position < len(rest):
        if not rest[position:].strip():
            break
        found = _PARAM.match(rest, position)
        if not found:
            raise UnexpectedAnswer(f"malformed {scheme} challenge parameters: {rest[position:position + 60]!r}")
        name, quoted, bare = found.groups()
        value = re.sub(r"\\(.)", r"\1", quoted) if quoted is not None else bare
        params[name.lower()] = value
        position = found.end()
    if scheme == "bearer" and not params.get("realm"):
        raise UnexpectedAnswer("a Bearer challenge without a realm (where would the token come from?)")
    return Challenge(scheme, params)


def token_of(answer: Any) -> str:
    """The bearer token in a token endpoint's JSON answer (`token`, or OAuth2's `access_token`)."""
    if isinstance(answer, dict):
        for key in ("token", "access_token"):
            value = answer.get(key)
            if isinstance(value, str) and value:
                return value
    raise UnexpectedAnswer("the token endpoint answered without a token")


def tags_of(answer: Any) -> list[str]:
    """The tags of a `/v2/<name>/tags/list` answer, sorted (`"tags": null` for a repository without any)."""
    if not isinstance(answer, dict):
        raise UnexpectedAnswer("the tag list is not a JSON object")
    tags = answer.get("tags") or []
    return sorted(str(t) for t in tags)
