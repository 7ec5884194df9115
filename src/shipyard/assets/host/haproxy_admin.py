# A client of HAProxy's admin socket (a Unix socket) in the host's python3 (present on Debian/Ubuntu droplets;
# socat often is not): stdin goes to the socket, the reply to stdout. HAProxy closes the connection after a
# non-interactive command.
#   python3 -I -S -c "$(cat haproxy_admin.py)" SOCKET     (commands/haproxy.py: admin; switch.sh runs it too)
import socket
import sys

s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.settimeout(10)
s.connect(sys.argv[1])
s.sendall(sys.stdin.buffer.read())
s.shutdown(socket.SHUT_WR)
while True:
    chunk = s.recv(65536)
    if not chunk:
        break
    sys.stdout.buffer.write(chunk)
