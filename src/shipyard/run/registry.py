"""The one client of a registry's HTTP API (Docker Registry v2 / OCI distribution), with httpx.

    client = RegistryClient("registry.example", credentials=Credentials("me", secret), ca="ca.pem")
    client.check()                          # reachable, and the credentials are accepted (else a typed error)
    client.digest("acme/api", "abc123")     # 'sha256:...' or None
    client.tags("acme/api"); client.exists("acme/api", "abc123"); client.delete("acme/api", "sha256:...")

Authentication follows the registry's 401: `Basic` -> the request again with basic credentials; `Bearer realm=...,
service=...,scope=...` (Docker's token flow) -> GET realm?service=&scope= with basic credentials (none when anonymous)
-> a bearer token, cached per scope for the life of the client. The password is only ever put in an Authorization
header; errors say which registry and which user, never the password, and are raised `from None` so that no
httpx exception (with its request) is chained to them.
"""

from __future__ import annotations

import ipaddress
import logging
import ssl
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from shipyard import imageref
from shipyard.errors import ShipyardError
from shipyard.facts.registry import Challenge, UnexpectedAnswer, parse_challenge, tags_of, token_of
from shipyard.run.redact import MIN_LENGTH, REDACTOR, Redactor

if TYPE_CHECKING:  # httpx is imported where a request is made: a rollback that never calls the registry skips it
    import httpx

log = logging.getLogger("shipyard.run.registry")

#: HEAD/GET of a manifest accepts every single-image and multi-platform type, so the digest is the stored one
MANIFEST_TYPES = ", ".join((
    "application/vnd.docker.distribution.manifest.v2+json",
    "application/vnd.docker.distribution.manifest.list.v2+json",
    "application/vnd.oci.image.manifest.v1+json",
    "application/vnd.oci.image.index.v1+json",
))
TIMEOUT = 30.0


class Revealable(Protocol):
    """A secret (shipyard.config.secrets.Secret): its repr is masked, its value comes from reveal()."""

    def reveal(self) -> str: ...


@dataclass(frozen=True)
class Credentials:
    username: str
    password: Revealable
    secret_name: str = ""  # the `secrets:` entry the password comes from, for hints

    def __repr__(self) -> str:
        return f"Credentials({self.username!r}, '******')"


class RegistryError(ShipyardError):
    """The registry answered something unexpected, or could not be used. Never carries a credential."""

    def __init__(self, address: str, message: str, *, hint: str | None = None) -> None:
        super().__init__(message, hint=hint)
        self.address = address


class RegistryAuthError(RegistryError):
    """The registry (or its token service) refused the credentials, or needs some and none are configured."""


class RegistryUnreachable(RegistryError):
    """No HTTP answer: refused connection, DNS, timeout, TLS verification."""


def is_loopback(address: str) -> bool:
    host = address.rsplit(":", 1)[0] if address.count(":") == 1 else address
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def scheme_for(address: str, *, insecure: bool = False, ca: str | None = None) -> str:
    """HTTPS always with a CA file; plain HTTP for an `insecure` registry or one on loopback; HTTPS otherwise."""
    if ca is not None:
        return "https"
    return "http" if insecure or is_loopback(address) else "https"


class RegistryClient:
    def __init__(self, address: str, *, credentials: Credentials | None = None, ca: str | Path | None = None,
                 insecure: bool = False, timeout: float = TIMEOUT, redactor: Redactor = REDACTOR) -> None:
        self.address = address
        self.credentials = credentials
        self.base = f"{scheme_for(address, insecure=insecure, ca=None if ca is None else str(ca))}://{address}"
        self.redactor = redactor
        if credentials is not None and len(credentials.password.reveal()) >= MIN_LENGTH:
            redactor.add(credentials.password.reveal())
        verify: bool | ssl.SSLContext = True
        if ca is not None:
            path = Path(ca).expanduser()
            if not path.is_file():
                raise RegistryError(address, f"registry {address}: the CA file {path} does not exist",
                                    hint="fix registry.ca in shipyard.yaml (a PEM file of the registry's CA)")
            try:
                verify = ssl.create_default_context(cafile=str(path))
            except (ssl.SSLError, OSError):
                raise RegistryError(address, f"registry {address}: {path} is not a PEM CA certificate",
                                    hint="fix registry.ca in shipyard.yaml") from None
        import httpx

        self._http = httpx.Client(verify=verify, timeout=timeout, follow_redirects=False)
        self._tokens: dict[str, str] = {}  # scope ("" for the base endpoint) -> bearer token
        self._basic = False  # the registry asked for basic credentials once: send them on every request
        self._lock = threading.Lock()

    # --- what callers use --------------------------------------------------------------------------------
    def check(self) -> str:
        """The registry answers, and accepts our credentials (or anonymous access). Raises a typed error.
        Returns its Docker-Distribution-API-Version header ("registry/2.0"; "" when it sends none)."""
        return str(self._request("GET", "/v2/", scope="").headers.get("docker-distribution-api-version", ""))

    def digest(self, repository: str, reference: str) -> str | None:
        """The digest the registry stores for `repository:reference` (HEAD with the manifest types), or None."""
        response = self._request("HEAD", f"/v2/{repository}/manifests/{reference}", scope=_pull(repository),
                                 headers={"Accept": MANIFEST_TYPES}, missing_ok=True)
        if response.status_code == 404:
            return None
        digest = str(response.headers.get("docker-content-digest") or "")
        if not digest:
            raise RegistryError(self.address, f"registry {self.address} gave no digest for {repository}:{reference}")
        return digest

    def exists(self, repository: str, reference: str) -> bool:
        return self.digest(repository, reference) is not None

    def tags(self, repository: str) -> list[str]:
        response = self._request("GET", f"/v2/{repository}/tags/list", scope=_pull(repository), missing_ok=True)
        if response.status_code == 404:
            return []
        try:
            return tags_of(response.json())
        except (ValueError, UnexpectedAnswer):
            raise RegistryError(self.address, f"registry {self.address} answered the tag list of {repository}"
                                              " with something that is not a tag list") from None

    def delete(self, repository: str, digest: str) -> None:
        """Delete a manifest by digest (the registry must allow deletes; blobs stay until its garbage collector)."""
        if not digest.startswith("sha256:"):
            raise ValueError(f"delete by digest only (sha256:...), not {digest!r}")
        response = self._request("DELETE", f"/v2/{repository}/manifests/{digest}",
                                 scope=f"repository:{repository}:delete", missing_ok=True)
        if response.status_code == 404:
            return
        if response.status_code != 202:
            raise RegistryError(self.address, f"registry {self.address} refused to delete"
                                              f" {imageref.pinned(repository, digest)} (HTTP {response.status_code})",
                                hint="deletes must be enabled in the registry (storage.delete.enabled)")

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> RegistryClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- the protocol ------------------------------------------------------------------------------------
    @property
    def who(self) -> str:
        return f"user {self.credentials.username}" if self.credentials else "an anonymous client"

    def _send(self, method: str, url: str, headers: Mapping[str, str], auth: httpx.Auth | None = None
              ) -> httpx.Response:
        import httpx

        try:
            return self._http.request(method, url, headers=dict(headers), auth=auth)
        except httpx.ConnectError as exc:
            reason = self.redactor(str(exc)) or exc.__class__.__name__
            if "CERTIFICATE_VERIFY_FAILED" in reason or "certificate verify failed" in reason:
                raise RegistryUnreachable(
                    self.address, f"registry {self.address}: its TLS certificate is not trusted ({reason})",
                    hint="set registry.ca in shipyard.yaml to the CA that signed it") from None
            raise RegistryUnreachable(self.address, f"registry {self.address} is unreachable: {reason}",
                                      hint="check registry.address, and that the registry is running") from None
        except httpx.TimeoutException:
            raise RegistryUnreachable(self.address, f"registry {self.address} did not answer in time",
                                      hint="check registry.address, and that the registry is running") from None
        except httpx.HTTPError as exc:
            reason = self.redactor(str(exc)) or exc.__class__.__name__
            raise RegistryUnreachable(self.address, f"registry {self.address}: {reason}") from None

    def _basic_auth(self) -> httpx.BasicAuth | None:
        if self.credentials is None:
            return None
        import httpx

        return httpx.BasicAuth(self.credentials.username, self.credentials.password.reveal())

    def _headers(self, scope: str, extra: Mapping[str, str] | None) -> tuple[dict[str, str], httpx.Auth | None]:
        headers = dict(extra or {})
        with self._lock:
            token = self._tokens.get(scope)
        if token is not None:
            headers["Authorization"] = f"Bearer {token}"
            return headers, None
        return headers, self._basic_auth() if self._basic else None

    def _request(self, method: str, path: str, *, scope: str, headers: Mapping[str, str] | None = None,
                 missing_ok: bool = False) -> httpx.Response:
        url = self.base + path
        sent, auth = self._headers(scope, headers)
        response = self._send(method, url, sent, auth)
        if response.status_code == 401:
            challenge = self._challenge(response)
            if challenge.scheme == "basic":
                if self.credentials is None or self._basic:
                    raise self._refused()
                self._basic = True
            elif challenge.scheme == "bearer":
                token = self._token(challenge)
                with self._lock:
                    self._tokens[scope] = token
                    self._tokens[challenge.scope or ""] = token
            else:
                raise RegistryError(self.address, f"registry {self.address} asks for {challenge.scheme}"
                                                  " authentication, which Shipyard does not speak")
            sent, auth = self._headers(scope, headers)
            response = self._send(method, url, sent, auth)
            if response.status_code == 401:
                raise self._refused()
        if response.status_code == 403:
            raise RegistryAuthError(self.address, f"registry {self.address} denied {self.who} {method} {path}"
                                                  " (HTTP 403: no permission)",
                                    hint="give the user (token) read, write and delete access to the repository")
        if response.status_code == 404 and missing_ok:
            return response
        if response.status_code >= 400:
            raise RegistryError(self.address, f"registry {self.address}: {method} {path} failed with HTTP"
                                              f" {response.status_code}{_error_code(response)}")
        return response

    def _challenge(self, response: httpx.Response) -> Challenge:
        header = response.headers.get("www-authenticate")
        if not header:
            raise self._refused()
        try:
            return parse_challenge(header)
        except UnexpectedAnswer as exc:
            raise RegistryError(self.address, f"registry {self.address}: {exc}") from None

    def _token(self, challenge: Challenge) -> str:
        import httpx

        assert challenge.realm is not None
        params = {k: v for k, v in (("service", challenge.service), ("scope", challenge.scope)) if v}
        url = httpx.URL(challenge.realm).copy_merge_params(params)
        response = self._send("GET", str(url), {}, self._basic_auth())
        if response.status_code in (401, 403):
            raise self._refused(f" (token service {httpx.URL(challenge.realm).host})")
        if response.status_code != 200:
            raise RegistryError(self.address, f"registry {self.address}: its token service answered HTTP"
                                              f" {response.status_code}")
        try:
            return token_of(response.json())
        except (ValueError, UnexpectedAnswer):
            raise RegistryError(self.address, f"registry {self.address}: its token service answered without"
                                              " a token") from None

    def _refused(self, where: str = "") -> RegistryAuthError:
        if self.credentials is None:
            return RegistryAuthError(self.address, f"registry {self.address}{where} requires credentials and none"
                                                   " are configured",
                                     hint="set registry.username and registry.password (a secret's name) in"
                                          " shipyard.yaml")
        secret = f" (secret {self.credentials.secret_name})" if self.credentials.secret_name else ""
        return RegistryAuthError(self.address, f"registry {self.address}{where} refused the credentials of user"
                                               f" {self.credentials.username}",
                                 hint=f"check the password{secret} and the user name in shipyard.yaml")


def _pull(repository: str) -> str:
    return f"repository:{repository}:pull"


def _error_code(response: httpx.Response) -> str:
    """`: MANIFEST_UNKNOWN` from the registry's JSON error body, when there is one."""
    try:
        body: Any = response.json()
        code = body["errors"][0]["code"]
    except (ValueError, KeyError, IndexError, TypeError):
        return ""
    return f": {code}" if isinstance(code, str) else ""
