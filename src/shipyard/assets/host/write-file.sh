#!/bin/sh
# Replace the file PATH with stdin atomically (a temporary file beside it, then a rename), under umask UMASK.
#   sh -c "$(cat write-file.sh)" shipyard-write PATH UMASK     (commands/hoststate.py: write_file)
set -eu
umask "$2"
mkdir -p "$(dirname "$1")"
cat > "$1.tmp"
mv "$1.tmp" "$1"
