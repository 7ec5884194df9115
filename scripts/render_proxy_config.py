"""Render docker/proxy/haproxy.cfg: the reference HAProxy configuration Shipyard writes on every VM.

Run after changing the template in src/shipyard/commands/haproxy.py; a unit test keeps the file in sync.
"""

from __future__ import annotations

from pathlib import Path

from shipyard.commands.haproxy import Backend, render_config
from shipyard.commands.layout import HostLayout
from shipyard.config import load

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    config = load(ROOT / "shipyard.yaml")
    backends = [Backend(name, s.port, s.health.readiness, "blue" if name == "web" else None, s.route)
                for name, s in config.services().items()]
    text = render_config(HostLayout(config.project.project), backends, "web")
    (ROOT / "docker" / "proxy" / "haproxy.cfg").write_text(text)
    print("wrote docker/proxy/haproxy.cfg")


if __name__ == "__main__":
    main()
