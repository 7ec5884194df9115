"""This repository's Invoke tasks: Shipyard's collections, composed for the reference monorepo."""

import sys

from shipyard.tasks import namespace

# only the collections the command line names are loaded (all of them for `invoke --list`)
ns = namespace(sys.argv[1:])
