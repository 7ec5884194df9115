"""Where the offline checkers are: terraform on PATH, the Python tools next to the running interpreter
(the project's virtualenv, even when its bin/ is not on PATH), checkov in its own virtualenv."""

from __future__ import annotations

import os
import re
import shutil
import sys
from pathlib import Path

from shipyard.errors import ShipyardError

ANSI_RE = re.compile(r"\x1b\[[0-9;]*m")
IAC_EXTRA_HINT = ".venv/bin/pip install -e '.[iac]'"


def _executable(path: Path) -> bool:
    return path.is_file() and os.access(path, os.X_OK)


def python_tool(name: str, *, hint: str = IAC_EXTRA_HINT) -> str:
    """A console script installed with Shipyard's extras: beside sys.executable first, then PATH."""
    beside = Path(sys.executable).parent / name
    if _executable(beside):
        return str(beside)
    found = shutil.which(name)
    if found:
        return found
    raise ShipyardError(f"`{name}` is not installed", hint=hint)


def terraform() -> str:
    found = shutil.which("terraform") or ("/usr/local/bin/terraform"
                                          if _executable(Path("/usr/local/bin/terraform")) else None)
    if found is None:
        raise ShipyardError("`terraform` is not installed or not on PATH",
                            hint="install Terraform >= 1.6 (a single binary) into /usr/local/bin")
    return found


def checkov(root: Path) -> str:
    """checkov in its own virtualenv, located the way the Kubernetes checks locate it (shared helper)."""
    from shipyard.k8s.policy import find_checkov

    return find_checkov(root)


def plugin_cache() -> Path:
    """A shared provider cache, so that validating several root modules downloads the provider once."""
    path = Path(os.environ.get("TF_PLUGIN_CACHE_DIR") or "~/.terraform.d/plugin-cache").expanduser()
    path.mkdir(parents=True, exist_ok=True)
    return path


def terraform_env() -> dict[str, str]:
    """Environment for offline terraform commands: no CLI config file warning, no prompts, no colours."""
    env = {"TF_IN_AUTOMATION": "1", "TF_INPUT": "0"}
    configured = os.environ.get("TF_CLI_CONFIG_FILE") or "~/.terraformrc"
    if not Path(configured).expanduser().exists():
        env["TF_CLI_CONFIG_FILE"] = "/dev/null"
    return env


def terraform_error(stderr: str) -> str:
    """The first `Error: ...` summary of terraform's diagnostics (colours and box drawing removed)."""
    lines = [ANSI_RE.sub("", line).strip(" │╷╵\t") for line in stderr.splitlines()]
    for line in lines:
        if line.startswith("Error: "):
            return line.removeprefix("Error: ").strip()
    meaningful = [line for line in lines if line]
    return meaningful[-1] if meaningful else "no error output"
