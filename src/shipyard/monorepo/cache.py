"""The local task cache: one directory per key, verified on every read, written atomically.

    <cache>/<key[:2]>/<key>/manifest.json   task, sizes and sha256 of the log and of every output file
    <cache>/<key[:2]>/<key>/log             the task's combined output, replayed on a hit
    <cache>/<key[:2]>/<key>/out/<path>      the outputs, relative to the package directory

An entry is built in <cache>/tmp/ and renamed into place, so readers see all of it or none of it.
A manifest that does not parse, or a file whose size or sha256 differs, discards the entry: the
task runs again; a wrong restore is never possible. Least recently used entries are pruned past the cap.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import sys
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from shipyard.monorepo.globs import GlobSet, static_prefix

FORMAT = 1
TMP_MAX_AGE = 3600.0


@dataclass(frozen=True)
class OutputFile:
    path: str  # relative to the package directory
    sha256: str
    size: int
    mode: int
    link: str | None = None  # a symbolic link's target (then there is no content)


@dataclass(frozen=True)
class Entry:
    key: str
    dir: Path
    log: str
    outputs: tuple[OutputFile, ...]
    duration: float
    size: int


def _sha256_file(path: Path | str) -> tuple[str, int]:
    """sha256 and size of the bytes actually read (a file truncated under us shows its true size)."""
    h = hashlib.sha256()
    size = 0
    with open(path, "rb") as fh:
        while chunk := fh.read(1 << 20):
            h.update(chunk)
            size += len(chunk)
    return h.hexdigest(), size


def collect_outputs(package_dir: Path, patterns: tuple[str, ...]) -> list[str]:
    """Files under `package_dir` matching the output globs, walking only below their fixed prefixes."""
    globs = GlobSet(patterns)
    starts = sorted({static_prefix(p) for p in patterns if not p.startswith("!")})
    found: set[str] = set()
    for start in starts:
        if any(start != other and (start + "/").startswith(other + "/" if other else "") for other in starts):
            continue  # a parent prefix walks it already
        base = package_dir / start if start else package_dir
        if base.is_file():
            candidates = [start]
        else:
            candidates = []
            for folder, dirs, files in os.walk(base):
                rel_folder = Path(folder).relative_to(package_dir).as_posix()
                if not start:
                    dirs[:] = [d for d in dirs if d not in {"node_modules", ".git"}]
                prefix = "" if rel_folder == "." else rel_folder + "/"
                candidates += [prefix + f for f in files]
                candidates += [prefix + d for d in dirs if (Path(folder) / d).is_symlink()]
        found.update(c for c in candidates if globs.match(c))
    return sorted(found)


_FICLONE = 0x40049409  # Linux ioctl: share the extents (copy-on-write) on btrfs, XFS, bcachefs...
_reflink_ok = sys.platform == "linux"


def _clone(source: str, dest: str) -> None:
    """A copy of `source` at `dest` (which must not exist): a reflink where the filesystem allows, else bytes.

    Never a hard link: a build that rewrites its output in place (`cat ... > dist/x`) would corrupt the entry.
    """
    global _reflink_ok
    if _reflink_ok:
        import fcntl

        with open(source, "rb") as src, open(dest, "xb") as dst:
            try:
                fcntl.ioctl(dst.fileno(), _FICLONE, src.fileno())
                return
            except OSError:
                _reflink_ok = False  # not supported here (ext4, tmpfs, across devices): copy from now on
        os.unlink(dest)  # noqa: PTH108
    shutil.copyfile(source, dest)


def _restore_link(target: Path, link: str) -> int:
    if target.is_symlink() and str(target.readlink()) == link:
        return 0
    target.parent.mkdir(parents=True, exist_ok=True)
    if target.is_dir() and not target.is_symlink():
        shutil.rmtree(target)
    tmp = target.with_name(f".{target.name}.shipyard-{uuid.uuid4().hex[:8]}")
    tmp.symlink_to(link)
    tmp.replace(target)
    return 1


class LocalCache:
    def __init__(self, directory: Path, max_bytes: int) -> None:
        self.dir = directory
        self.max_bytes = max_bytes
        self.discarded: list[tuple[str, str]] = []  # (key, why) of corrupt entries found

    def entry_dir(self, key: str) -> Path:
        return self.dir / key[:2] / key

    def probe(self, key: str) -> bool:
        """Cheap check for `--dry`: an entry with a manifest exists (full verification happens on fetch)."""
        return (self.entry_dir(key) / "manifest.json").is_file()

    def fetch(self, key: str) -> Entry | None:
        """The verified entry, or None. A corrupt or partial entry is deleted and reported in `discarded`."""
        folder = f"{self.dir}/{key[:2]}/{key}"  # str paths: this runs once per task of a cached build
        try:
            with open(f"{folder}/manifest.json", "rb") as fh:
                raw = fh.read()
        except FileNotFoundError:
            if not os.path.exists(folder):  # noqa: PTH110
                return None
            raw = b""  # an entry without its manifest: corrupt (reported and discarded below)
        except OSError:
            raw = b""
        try:
            entry = self._verify(key, Path(folder), raw)
        except (OSError, ValueError, KeyError, TypeError) as exc:
            self.discarded.append((key, str(exc) or exc.__class__.__name__))
            self._remove(Path(folder))
            return None
        with contextlib.suppress(OSError):
            os.utime(f"{folder}/manifest.json")  # recently used: pruned last
        return entry

    def _verify(self, key: str, folder: Path, raw: bytes | None = None) -> Entry:
        if raw is None:
            raw = (folder / "manifest.json").read_bytes()
        if not raw:
            raise ValueError("manifest.json is missing or empty")
        manifest: dict[str, Any] = json.loads(raw.decode("utf-8"))
        if manifest.get("format") != FORMAT or manifest.get("key") != key:
            raise ValueError("manifest is not for this key or format")
        base = str(folder)
        with open(f"{base}/log", "rb") as fh:
            log_bytes = fh.read()
        if hashlib.sha256(log_bytes).hexdigest() != manifest["log_sha256"]:
            raise ValueError("log does not match its sha256")
        outputs = []
        for item in manifest["outputs"]:
            parts = str(item["path"]).split("/")
            if not item["path"] or item["path"].startswith("/") or ".." in parts:
                raise ValueError(f"{item['path']!r}: output path outside the package")
            if item.get("link") is not None:
                outputs.append(OutputFile(str(item["path"]), "", 0, 0, str(item["link"])))
                continue
            out = OutputFile(str(item["path"]), str(item["sha256"]), int(item["size"]), int(item["mode"]))
            digest, size = _sha256_file(f"{base}/out/{out.path}")
            if size != out.size:
                raise ValueError(f"{out.path}: size differs from the manifest (truncated?)")
            if digest != out.sha256:
                raise ValueError(f"{out.path}: sha256 differs from the manifest")
            outputs.append(out)
        return Entry(key, folder, log_bytes.decode("utf-8", errors="replace"), tuple(outputs),
                     float(manifest.get("duration", 0.0)), int(manifest["size"]))

    def restore(self, entry: Entry, package_dir: Path) -> int:
        """Write the entry's outputs into the package; files already identical are left alone."""
        written = 0
        base = str(package_dir)
        for out in entry.outputs:
            if out.link is not None:
                written += _restore_link(package_dir / out.path, out.link)
                continue
            target = f"{base}/{out.path}"
            with contextlib.suppress(OSError):
                if os.stat(target).st_size == out.size and _sha256_file(target)[0] == out.sha256:  # noqa: PTH116
                    continue
            folder, _, name = target.rpartition("/")
            try:
                tmp = f"{folder}/.{name}.shipyard-{os.urandom(4).hex()}"
                _clone(f"{entry.dir}/out/{out.path}", tmp)
            except FileNotFoundError:  # the folder does not exist yet
                os.makedirs(folder, exist_ok=True)  # noqa: PTH103
                tmp = f"{folder}/.{name}.shipyard-{os.urandom(4).hex()}"
                _clone(f"{entry.dir}/out/{out.path}", tmp)
            os.chmod(tmp, out.mode)  # noqa: PTH101
            os.replace(tmp, target)  # noqa: PTH105
            written += 1
        return written

    def store(self, key: str, meta: dict[str, Any], log: str, package_dir: Path, outputs: list[str],
              duration: float) -> int:
        """Save a successful task's log and outputs under `key`. Returns the entry's size in bytes."""
        tmp_root = self.dir / "tmp"
        tmp_root.mkdir(parents=True, exist_ok=True)
        tmp = tmp_root / f"{key}.{uuid.uuid4().hex}"
        try:
            (tmp / "out").mkdir(parents=True)
            log_bytes = log.encode("utf-8", errors="replace")
            (tmp / "log").write_bytes(log_bytes)
            files: list[dict[str, object]] = []
            total = len(log_bytes)
            for rel in outputs:
                source = package_dir / rel
                if source.is_symlink():
                    files.append({"path": rel, "link": str(source.readlink())})
                    continue
                dest = tmp / "out" / rel
                dest.parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(source, dest)
                digest, size = _sha256_file(dest)
                files.append({"path": rel, "sha256": digest, "size": size, "mode": source.stat().st_mode & 0o777})
                total += size
            manifest = {"format": FORMAT, "key": key, **meta, "duration": round(duration, 3), "created": time.time(),
                        "log_sha256": hashlib.sha256(log_bytes).hexdigest(), "outputs": files, "size": total}
            (tmp / "manifest.json").write_text(json.dumps(manifest, indent=1), encoding="utf-8")
            final = self.entry_dir(key)
            final.parent.mkdir(parents=True, exist_ok=True)
            if final.exists():
                self._remove(final)
            try:
                tmp.rename(final)
            except OSError:
                if not (final / "manifest.json").is_file():  # lost a race to a writer of the same key: fine
                    raise
            return total
        finally:
            if tmp.exists():
                self._remove(tmp)

    def _remove(self, folder: Path) -> None:
        """Move aside, then delete: a reader never sees a half-deleted entry under its key."""
        doomed = self.dir / "tmp" / f"doomed-{uuid.uuid4().hex}"
        try:
            doomed.parent.mkdir(parents=True, exist_ok=True)
            folder.rename(doomed)
        except OSError:
            doomed = folder
        shutil.rmtree(doomed, ignore_errors=True)

    def entries(self) -> list[tuple[float, int, Path]]:
        """(last used, size, dir) of every entry."""
        out: list[tuple[float, int, Path]] = []
        if not self.dir.is_dir():
            return out
        for shard in os.scandir(self.dir):
            if not shard.is_dir() or len(shard.name) != 2:
                continue
            for item in os.scandir(shard.path):
                manifest = Path(item.path) / "manifest.json"
                try:
                    used = manifest.stat().st_mtime
                    size = int(json.loads(manifest.read_text(encoding="utf-8"))["size"])
                except (OSError, ValueError, KeyError, TypeError):
                    used, size = 0.0, 0
                out.append((used, size, Path(item.path)))
        return out

    def prune(self) -> tuple[int, int]:
        """Drop least recently used entries until the cache fits its cap. Returns (entries, bytes) removed."""
        tmp_root = self.dir / "tmp"
        if tmp_root.is_dir():
            for item in os.scandir(tmp_root):
                with contextlib.suppress(OSError):
                    if time.time() - item.stat().st_mtime > TMP_MAX_AGE:
                        shutil.rmtree(item.path, ignore_errors=True)
        entries = sorted(self.entries())
        total = sum(size for _, size, _ in entries)
        removed = freed = 0
        for _, size, folder in entries:
            if total <= self.max_bytes:
                break
            self._remove(folder)
            total -= size
            removed += 1
            freed += size
        return removed, freed
