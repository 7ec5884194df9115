"""Everything a deploy observes on a host, gathered in one SSH round trip. Pure argv.

The script prints sections headed by `@@shipyard:<name>@@` lines: ps (the project's containers as JSON
lines), config (the persisted haproxy.cfg), servers (`show servers state`, empty when the proxy is down)
and images (`yes|no <ref>` per wanted image).
"""

from __future__ import annotations

import shlex
from collections.abc import Sequence

from shipyard.commands import bluegreen as bgc
from shipyard.commands import haproxy
from shipyard.commands.layout import HostLayout

MARK = "@@shipyard:{}@@"


def gather(layout: HostLayout, images: Sequence[str]) -> list[str]:
    """The facts script. Its three probes (the docker ps, the proxy's admin socket, the image checks) each start
    a program on the host, and they run at the same time, into a private temporary directory, then print in
    order: a rollback to a standby waits for the slowest probe, not for their sum."""
    ps = shlex.join(bgc.ps(layout))
    admin = shlex.join(haproxy.admin(layout))
    script = "\n".join([
        't=$(mktemp -d) || exit 1',
        "trap 'rm -rf \"$t\"' EXIT",
        f'{ps} >"$t/ps" 2>/dev/null &',
        f"if [ -S {shlex.quote(layout.admin_socket)} ]; then echo 'show servers state' | {admin} >\"$t/servers\""
        " 2>/dev/null; fi &",
        'for i in "$@"; do if docker image inspect "$i" >/dev/null 2>&1; then echo "yes $i"; else echo "no $i"; fi;'
        ' done >"$t/images" &',
        "wait",
        f"echo {MARK.format('ps')}", 'cat "$t/ps" 2>/dev/null',
        f"echo {MARK.format('config')}", f'cat {shlex.quote(layout.proxy_config)} 2>/dev/null',
        f"echo {MARK.format('servers')}", 'cat "$t/servers" 2>/dev/null',
        f"echo {MARK.format('images')}", 'cat "$t/images"',
        "true",
    ])
    return ["sh", "-c", script, "shipyard-facts", *images]
