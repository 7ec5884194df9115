#!/bin/sh
# The blue/green switch, in one round trip: point the live colour's backup twin at the live container's address,
# then send the switch commands to HAProxy's admin socket.
#   sh -c "$(cat switch.sh)" shipyard-switch CONTAINER ADDRESS-FORMAT BACKEND/SERVER PORT COMMANDS CLIENT SOCKET
# (commands/haproxy.py: switch_with_backup). CLIENT is the text of haproxy_admin.py, run by python3.
# Exit 3: the live container has no address; 4: the proxy refused the backup's address; 5: it refused the switch.
set -eu
ip=$(docker inspect --type container --format "$2" "$1")
if [ -z "$ip" ]; then echo "the live container $1 has no address; not switching away from it" >&2; exit 3; fi
out=$(printf 'set server %s addr %s port %s\n' "$3" "$ip" "$4" | python3 -I -S -c "$6" "$7")
case "$out" in
  ""|*changed*|*"no need"*) ;;
  *) echo "the proxy refused the backup address: $out" >&2; exit 4 ;;
esac
out=$(printf '%s' "$5" | python3 -I -S -c "$6" "$7")
if [ -n "$out" ]; then echo "the proxy refused the switch: $out" >&2; exit 5; fi
