"""This repository's Invoke tasks: Shipyard's collections, composed for the reference monorepo."""

from shipyard.tasks import namespace

ns = namespace()
