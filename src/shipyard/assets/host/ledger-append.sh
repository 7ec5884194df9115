#!/bin/sh
# Append one ledger entry (stdin) to the ledger LEDGER, its directory made when missing; the append itself is
# the Python program PROGRAM (the text of ledger_append.py), run by the host's python3.
#   sh -c "$(cat ledger-append.sh)" shipyard-ledger LEDGER PROGRAM     (commands/hoststate.py: append_ledger)
set -eu
mkdir -p "$(dirname "$1")"
exec python3 -I -S -c "$2" "$1"
