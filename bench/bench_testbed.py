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

Every row gives the median and the worst of its runs (the cold ones are one run each); a run that fails is a
miss: counted, shown as the worst, and the verdict is FAIL. Without --cold the cold target shows "not run".
"""

from __future__ import annotations

import argparse
import sys
import time
import uuid
from pathlib import Path

from _stats import Row, Runs, main_of, repeat

from shipyard.run import LocalRunner

ROOT = Path(__file__).resolve().parent.parent
CACHED_TARGET = 30.0
COLD_TARGET = 300.0
RUN = LocalRunner(echo=lambda line: sys.stdout.write("    | " + line))


def timed(argv: list[str], *, stream: bool = False, timeout: float = 1800) -> float:
    start = time.monotonic()
    RUN.run(argv, stream=stream, timeout=timeout)
    return time.monotonic() - start


def cached(runs: int) -> list[Row]:
    invoke = str(ROOT / ".venv" / "bin" / "invoke")
    warm = Runs()
    warm.attempt(lambda: timed([invoke, "testbed.up"], timeout=1800))  # make sure it is up before measuring
    if warm.misses:
        return [Row.failed("testbed.up, cached, this machine", f"the first testbed.up failed: {warm.misses[0]}",
                           limit=CACHED_TARGET)]
    return [Row.of("testbed.up, cached, this machine", repeat(lambda: timed([invoke, "testbed.up"]), runs),
                   limit=CACHED_TARGET)]


def cold_in_vm() -> list[Row]:
    from shipyard.testbed import vm

    host = vm.host_for()
    name = f"bench-cold-{uuid.uuid4().hex[:6]}"
    print(f"starting fresh VM {name} (no Docker engine, no images, no cache, no .venv)")
    machine = vm.start_vm(host, name)
    parts: dict[str, float] = {}

    def step(what: str, argv: list[str]) -> float:
        parts[what] = timed(argv, stream=True)
        return parts[what]

    try:
        RUN.run(["docker", "exec", "--env", "DEBIAN_FRONTEND=noninteractive", name, "sh", "-c",
                 "apt-get purge -y -q docker.io containerd runc > /dev/null && prepare-nested-docker"], timeout=300)
        RUN.run(["sh", "-c", f"git -C {ROOT} archive --format=tar HEAD"
                 f" | docker exec -i {name} sh -c 'mkdir -p /opt/shipyard && tar -x -C /opt/shipyard'"])
        inside = ["docker", "exec", "--workdir", "/opt/shipyard", name]
        cold = repeat(lambda: step("bootstrap", [*inside, "scripts/bootstrap"])
                      + step("up", [*inside, ".venv/bin/invoke", "testbed.up"]), 1)
        again = Runs(misses=["the cold testbed.up failed"])
        if cold.values:
            again = repeat(lambda: step("again", [*inside, ".venv/bin/invoke", "testbed.up"]), 1)
    finally:
        vm.stop_vm(host, machine.name)
    split = (f"scripts/bootstrap {parts['bootstrap']:.1f} s + testbed.up {parts['up']:.1f} s"
             if {"bootstrap", "up"} <= parts.keys() else "")
    return [Row.of("testbed.up from nothing (bootstrap + up), fresh VM", cold, limit=COLD_TARGET, note=split),
            Row.of("testbed.up, cached, same VM right after", again, limit=CACHED_TARGET)]


def cold_here() -> list[Row]:
    from shipyard.testbed import BASE_IMAGES
    from shipyard.testbed.images import ROOTFS
    from shipyard.testbed.settings import Settings

    settings = Settings()
    refs = [*BASE_IMAGES.values(), ROOTFS]
    RUN.run(["docker", "image", "rm", *refs], check=False)
    RUN.run(["rm", "-rf", "--", str(settings.cache_dir)])
    up = repeat(lambda: timed([str(ROOT / ".venv" / "bin" / "invoke"), "testbed.up"], stream=True), 1)
    return [Row.of("testbed.up from nothing (images and cache removed), this machine", up, limit=COLD_TARGET)]


def rows(argv: list[str] | None = None) -> list[Row]:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cold", action="store_true", help="also measure a test bed built from nothing")
    parser.add_argument("--here", action="store_true", help="with --cold: on this machine, not in a fresh VM")
    parser.add_argument("--runs", type=int, default=3, help="cached runs (default 3)")
    args = parser.parse_args(argv)
    out = cached(args.runs)
    if not args.cold:
        out.append(Row.not_run("testbed.up from nothing",
                               "pass --cold (run_all: --with testbed=--cold); a fresh VM, about 4 minutes",
                               limit=COLD_TARGET))
    else:
        out += cold_here() if args.here else cold_in_vm()
    return out


def main() -> int:
    return main_of(rows, "Test bed")


if __name__ == "__main__":
    sys.exit(main())
