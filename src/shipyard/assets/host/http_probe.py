# GET a URL from the host itself (through the proxy) and print the status code. Exit 1: an HTTP error status
# (4xx/5xx); 2: no answer (the reason on stderr).
#   python3 -I -S -c "$(cat http_probe.py)" URL TIMEOUT     (commands/proxy.py: http_probe)
# The URL is Shipyard's own http://127.0.0.1:PORT/PATH, never a user's: any scheme urllib opens is fine here.
# ruff: noqa: S310
import sys
import urllib.error
import urllib.request

try:
    with urllib.request.urlopen(sys.argv[1], timeout=float(sys.argv[2])) as response:
        print(response.status)
except urllib.error.HTTPError as exc:
    print(exc.code)
    sys.exit(1)
except OSError as exc:
    print(f"no answer: {exc}", file=sys.stderr)
    sys.exit(2)
