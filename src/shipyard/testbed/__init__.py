"""The real test bed: Docker engine, Compose plugin, local registry, base images and SSH "VMs", self-installed.

Public API (used by `invoke testbed.*`, tests/conftest.py and the sandbox):
`up()`, `down()`, `status()`, `start_vm()`, `stop_vm()`, and the image names below.
"""

from shipyard.testbed.bed import Status, down, status, up
from shipyard.testbed.images import DEBIAN, HAPROXY, NODE, POSTGRES, PYTHON, REDIS, VM
from shipyard.testbed.settings import Settings

REGISTRY = "127.0.0.1:5000"
BASE_IMAGES = {"debian": DEBIAN, "python": PYTHON, "node": NODE, "postgres": POSTGRES, "redis": REDIS,
               "haproxy": HAPROXY, "vm": VM}

__all__ = ["BASE_IMAGES", "DEBIAN", "HAPROXY", "NODE", "POSTGRES", "PYTHON", "REDIS", "REGISTRY", "VM",
           "Settings", "Status", "down", "status", "up"]
