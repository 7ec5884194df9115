"""How long `invoke testbed.up` takes: cached (target <= 30 s) and from nothing (target <= 5 min).

    .venv/bin/python bench/bench_testbed.py            # cached, on this machine (3 runs)
    .venv/bin/python bench/bench_testbed.py --cold     # plus from nothing, on a brand-new machine
    .venv/bin/python bench/bench_testbed.py --cold --here   # from nothing on THIS machine (see below)

`--cold` starts a fresh test bed VM (a Debian container able to run Docker inside), removes docker.io,
containerd and runc from it, copies HEAD of this repository into it and times `scripts/bootstrap` followed by
`invoke testbed.up` there (apt docker.io, dockerd, host tools, Compose, registry, debootstrap, every image),
then a second, cached `testbed.up`. Nesting and a shared machine make this slower than a real new machine.

`--cold --here` instead removes this machine's base images and the cache directory first. Other people's
containers and builds that use those images are disturbed while it runs: prefer the VM.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
import uuid
from pathlib import Path

from shipyard.run import LocalRunner

ROOT = Path(__file__).resolve().parent.parent
CACHED_TARGET = 30.0
COLD_TARGET = 300.0
RUN = LocalRunner(echo=lambda line: sys.stdout.write("    | " + line))


def timed(argv: list[str], *, stream: bool = False, timeout: float = 1800) -> float:
    start = time.monotonic()
    RUN.run(argv, stream=stream, timeout=timeout)
    return time.monotonic() - start


def verdict(seconds: float, target: float) -> str:
    return f"{seconds:7.1f} s  (target <= {target:g} s: {'ok' if seconds <= target else 'MISSED'})"


def cached(runs: int) -> None:
    invoke = str(ROOT / ".venv" / "bin" / "invoke")
    timed([invoke, "testbed.up"], timeout=1800)  # make sure it is up before measuring
    times = [timed([invoke, "testbed.up"]) for _ in range(runs)]
    print(f"testbed.up, cached, this machine, median of {runs}: {verdict(statistics.median(times), CACHED_TARGET)}"
          f"  runs: {', '.join(f'{t:.2f}' for t in times)}")


def cold_in_vm() -> None:
    from shipyard.testbed import vm

    host = vm.host_for()
    name = f"bench-cold-{uuid.uuid4().hex[:6]}"
    print(f"starting fresh VM {name} (no Docker engine, no images, no cache, no .venv)")
    machine = vm.start_vm(host, name)
    try:
        RUN.run(["docker", "exec", "--env", "DEBIAN_FRONTEND=noninteractive", name, "sh", "-c",
                 "apt-get purge -y -q docker.io containerd runc > /dev/null && prepare-nested-docker"], timeout=300)
        RUN.run(["sh", "-c", f"git -C {ROOT} archive --format=tar HEAD"
                 f" | docker exec -i {name} sh -c 'mkdir -p /opt/shipyard && tar -x -C /opt/shipyard'"])
        inside = ["docker", "exec", "--workdir", "/opt/shipyard", name]
        boot = timed([*inside, "scripts/bootstrap"], stream=True)
        up = timed([*inside, ".venv/bin/invoke", "testbed.up"], stream=True)
        again = timed([*inside, ".venv/bin/invoke", "testbed.up"], stream=True)
    finally:
        vm.stop_vm(host, machine.name)
    print(f"fresh VM: scripts/bootstrap {boot:.1f} s + testbed.up {up:.1f} s")
    print(f"testbed.up, from nothing (bootstrap + up), fresh VM: {verdict(boot + up, COLD_TARGET)}")
    print(f"testbed.up, cached, same VM right after:          {verdict(again, CACHED_TARGET)}")


def cold_here() -> None:
    from shipyard.testbed import BASE_IMAGES
    from shipyard.testbed.images import ROOTFS
    from shipyard.testbed.settings import Settings

    settings = Settings()
    refs = [*BASE_IMAGES.values(), ROOTFS]
    RUN.run(["docker", "image", "rm", *refs], check=False)
    RUN.run(["rm", "-rf", "--", str(settings.cache_dir)])
    up = timed([str(ROOT / ".venv" / "bin" / "invoke"), "testbed.up"], stream=True)
    print(f"testbed.up, from nothing (images and cache removed), this machine: {verdict(up, COLD_TARGET)}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cold", action="store_true", help="also measure a test bed built from nothing")
    parser.add_argument("--here", action="store_true", help="with --cold: on this machine, not in a fresh VM")
    parser.add_argument("--runs", type=int, default=3, help="cached runs to take the median of (default 3)")
    args = parser.parse_args()
    cached(args.runs)
    if args.cold:
        cold_here() if args.here else cold_in_vm()


if __name__ == "__main__":
    main()
