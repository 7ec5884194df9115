# Append one complete line to the file argv[1] atomically: the whole of stdin is read first and must be one line
# ending with a newline (a deployer killed mid-send leaves nothing, never half a line), then one O_APPEND write
# puts it at the end of the file (created with mode 640).
#   python3 -I -S -c "$(cat ledger_append.py)" LEDGER     (through ledger-append.sh)
import os
import sys

data = sys.stdin.buffer.read()
if not data.endswith(b"\n") or data.count(b"\n") != 1:
    sys.exit("shipyard-ledger: refusing an incomplete or multi-line entry")
fd = os.open(sys.argv[1], os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o640)
try:
    if os.write(fd, data) != len(data):
        sys.exit("shipyard-ledger: short write")
finally:
    os.close(fd)
