"""Sandbox VMs shaped by the droplets' own host-setup script, so the rehearsal host cannot drift from a droplet.

terraform/modules/droplet-cluster/host-setup.sh is the one program that prepares a host for Shipyard: cloud-init
writes it to INSTALLED on every droplet and runs it as root with the deploy user's name and authorized keys.
`sandbox.up` copies the very same file (shipped in the package as assets/host/host-setup.sh, a link to the
module's file) to the same path inside each VM and runs it the same way, as root through `docker exec`. The VM's
authorized keys file (the test bed's client key, mounted) sits where cloud-init writes the droplet's keys.
The script is idempotent: a restarted VM or a second `sandbox.up` changes nothing.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from shipyard.commands import testbed as testbed_cmd
from shipyard.errors import ShipyardError

SCRIPT = Path(__file__).resolve().parents[1] / "assets" / "host" / "host-setup.sh"
INSTALLED = "/usr/local/sbin/shipyard-host-setup"  # where cloud-init.yaml.tftpl writes it on a droplet
AUTHORIZED_KEYS = "/etc/shipyard/authorized_keys"  # where cloud-init writes deploy_public_keys
USER = "deploy"  # the droplet-cluster module's default deploy_user


def prepare(host: Any, name: str, *, user: str = USER) -> list[str]:
    """Install and run host-setup.sh in the VM `name` as root; the lines it printed (what it changed)."""
    host.run(testbed_cmd.install_file(name, INSTALLED), input=SCRIPT.read_text(encoding="utf-8"), timeout=30)
    result = host.run(testbed_cmd.host_setup(name, INSTALLED, user=user, authorized_keys=AUTHORIZED_KEYS),
                      timeout=300, check=False)
    if not result.ok:
        last = (result.stderr.strip() or result.stdout.strip() or "no output").splitlines()[-1]
        raise ShipyardError(f"{name}: host-setup.sh failed: {last}",
                            hint=f"read it in {SCRIPT}; `docker exec {name} {INSTALLED}` runs it again")
    return [line for line in result.stdout.splitlines() if line.strip()]
