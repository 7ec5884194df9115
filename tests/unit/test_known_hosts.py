"""known_hosts lines as Shipyard's SSH client reads them: OpenSSH markers never become a traceback."""

from __future__ import annotations

from pathlib import Path

import paramiko
import pytest

from shipyard.errors import ShipyardError
from shipyard.run.ssh import load_known_hosts

KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIE1r3hV0b1n9u6dD2aW8xPq0o2H6Kk1tq9Yc1u3Gx2zA"


def keys_from(tmp_path: Path, text: str) -> paramiko.HostKeys:
    path = tmp_path / "known_hosts"
    path.write_text(text)
    keys = paramiko.HostKeys()
    load_known_hosts(keys, str(path))
    return keys


def test_plain_and_hashed_lines_are_pinned_and_a_cert_authority_line_is_skipped(tmp_path: Path) -> None:
    hashed = paramiko.HostKeys.hash_host("[10.0.0.9]:2222")
    keys = keys_from(tmp_path, f"# comment\n@cert-authority *.example.com {KEY} ca\nweb-1.example.com {KEY}\n"
                               f"{hashed} {KEY}\n")
    assert keys.lookup("web-1.example.com") is not None
    assert keys.lookup("[10.0.0.9]:2222") is not None
    assert keys.lookup("other.example.com") is None  # the CA line grants nothing


def test_a_revoked_line_is_refused_in_one_line(tmp_path: Path) -> None:
    with pytest.raises(ShipyardError, match=r"known_hosts:2: a @revoked line, which Shipyard's SSH client cannot"):
        keys_from(tmp_path, f"web-1.example.com {KEY}\n@revoked * {KEY}\n")


def test_a_broken_line_names_its_line_number(tmp_path: Path) -> None:
    with pytest.raises(ShipyardError, match=r"known_hosts:1: not a known_hosts line"):
        keys_from(tmp_path, "web-1.example.com ssh-ed25519 not-base64!!\n")
