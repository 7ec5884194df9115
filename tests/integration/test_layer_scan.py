"""The image-layer secret scan (`layers_containing`, used by the docker.* tests to prove that no secret reached an
image) proves it can fail: it finds a planted canary in every layout and compression it claims to read, and on a
real image built on the engine; a layer it cannot open fails the scan instead of passing unread."""

from __future__ import annotations

import gzip
import hashlib
import importlib
import io
import json
import lzma
import shutil
import subprocess
import tarfile
import uuid
from collections.abc import Callable
from pathlib import Path

import pytest
from docker_stack import layers_containing, new_canary, scan_saved_image


def tar_of(files: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def zstd_compress(data: bytes) -> bytes:
    try:
        zstandard = importlib.import_module("zstandard")
    except ImportError:
        zstd = shutil.which("zstd")
        if zstd is None:
            pytest.skip("neither the zstd program nor the zstandard package is here to make a zstd layer")
        return subprocess.run([zstd, "-cq"], input=data, capture_output=True, check=True).stdout
    return bytes(zstandard.ZstdCompressor().compress(data))


COMPRESSIONS: dict[str, Callable[[bytes], bytes]] = {
    "none": lambda data: data,
    "gzip": gzip.compress,
    "zstd": zstd_compress,
    "xz": lzma.compress,
}


def saved_image(path: Path, layers: list[bytes], layout: str) -> list[str]:
    """Write a `docker save` archive with these layer blobs in the legacy or the OCI layout; the layers' names."""
    config = json.dumps({"architecture": "amd64", "os": "linux", "rootfs": {"type": "layers"}}).encode()
    files: dict[str, bytes] = {}
    if layout == "oci":
        names = [f"blobs/sha256/{hashlib.sha256(layer).hexdigest()}" for layer in layers]
        config_name = f"blobs/sha256/{hashlib.sha256(config).hexdigest()}"
        files["oci-layout"] = b'{"imageLayoutVersion": "1.0.0"}'
    else:
        names = [f"{hashlib.sha256(layer).hexdigest()}/layer.tar" for layer in layers]
        config_name = f"{hashlib.sha256(config).hexdigest()}.json"
    files.update(zip(names, layers, strict=True))
    files[config_name] = config
    files["manifest.json"] = json.dumps([{"Config": config_name, "RepoTags": ["t:1"], "Layers": names}]).encode()
    path.write_bytes(tar_of(files))
    return names


@pytest.mark.parametrize("layout", ["legacy", "oci"])
@pytest.mark.parametrize("compression", list(COMPRESSIONS))
def test_a_canary_in_a_layer_is_found_whatever_the_layout_and_compression(
        tmp_path: Path, layout: str, compression: str) -> None:
    canary = new_canary().encode()
    compress = COMPRESSIONS[compression]
    clean = compress(tar_of({"etc/os-release": b"ID=debian\n"}))
    planted = compress(tar_of({"etc/hostname": b"box\n", "opt/app/settings.env": b"TOKEN=" + canary + b"\n"}))
    archive = tmp_path / "image.tar"
    names = saved_image(archive, [clean, planted], layout)
    assert scan_saved_image(archive, canary) == [f"{names[1]}:opt/app/settings.env"]
    saved_image(archive, [clean, compress(tar_of({"etc/hostname": b"box\n"}))], layout)
    assert scan_saved_image(archive, canary) == []  # the same image without the canary: nothing


def test_a_canary_inside_compressed_files_and_archives_in_a_layer_is_found(tmp_path: Path) -> None:
    canary = new_canary().encode()
    inner = tar_of({"secrets/token": canary})
    layer = tar_of({
        "var/log/app.log.gz": gzip.compress(b"started\n" + canary + b"\n"),
        "srv/backup.tar.gz": gzip.compress(inner),
        "srv/backup.tar.xz": lzma.compress(inner),
        "usr/share/doc/changelog.gz": gzip.compress(b"nothing to see\n"),
        "srv/not-really.gz": b"\x1f\x8b but not gzip at all",
        f"etc/{canary.decode()}": b"the name is the secret",
    })
    archive = tmp_path / "image.tar"
    [name] = saved_image(archive, [gzip.compress(layer)], "oci")
    assert sorted(scan_saved_image(archive, canary)) == sorted([
        f"{name}:var/log/app.log.gz",
        f"{name}:srv/backup.tar.gz:secrets/token",
        f"{name}:srv/backup.tar.xz:secrets/token",
        f"{name}:etc/{canary.decode()} (name, link or header)",
    ])


def test_a_canary_in_the_image_config_is_found(tmp_path: Path) -> None:
    canary = new_canary().encode()
    archive = tmp_path / "image.tar"
    saved_image(archive, [tar_of({"a": b"b"})], "legacy")
    with tarfile.open(archive) as tar:
        files = {m.name: tar.extractfile(m).read() for m in tar.getmembers() if m.isfile()}  # type: ignore[union-attr]
    config = next(name for name in files if name.endswith(".json") and name != "manifest.json")
    files[config] = json.dumps({"config": {"Env": [f"TOKEN={canary.decode()}"]}}).encode()
    archive.write_bytes(tar_of(files))
    assert scan_saved_image(archive, canary) == [config]


@pytest.mark.parametrize("broken", ["unknown-format", "bad-gzip", "missing"])
def test_a_layer_the_scan_cannot_read_fails_it(tmp_path: Path, broken: str) -> None:
    archive = tmp_path / "image.tar"
    layer = {"unknown-format": b"\x04\x22\x4d\x18 an lz4 frame, say", "bad-gzip": b"\x1f\x8b\x08 truncated",
             "missing": b""}[broken]
    names = saved_image(archive, [tar_of({"a": b"b"}), layer], "oci")
    if broken == "missing":  # manifest.json names a layer that is not in the archive
        with tarfile.open(archive) as tar:
            files = {m.name: tar.extractfile(m).read() for m in tar.getmembers()  # type: ignore[union-attr]
                     if m.isfile() and m.name != names[1]}
        archive.write_bytes(tar_of(files))
    with pytest.raises(AssertionError, match=r"could not read these layers|does not decompress"):
        scan_saved_image(archive, b"anything")


def test_a_zstd_layer_without_a_decompressor_fails_the_scan(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    real_import = importlib.import_module

    def no_zstd(name: str, package: str | None = None) -> object:
        if name in ("compression.zstd", "zstandard"):
            raise ImportError(name)
        return real_import(name, package)

    monkeypatch.setattr(importlib, "import_module", no_zstd)
    monkeypatch.setattr(shutil, "which", lambda _name: None)
    archive = tmp_path / "image.tar"
    saved_image(archive, [b"\x28\xb5\x2f\xfd" + b"\0" * 32], "oci")
    with pytest.raises(AssertionError, match="nothing here decompresses zstd"):
        scan_saved_image(archive, b"anything")


@pytest.mark.docker
def test_the_scan_finds_a_canary_planted_in_a_real_image(tmp_path: Path, base_images: dict[str, str]) -> None:
    """A real build on the engine: the canary is copied in (plain and gzip-compressed) and deleted by the next
    layer, so the image's file system no longer shows it, while its layers still hold it."""
    canary = new_canary()
    context = tmp_path / "context"
    context.mkdir()
    (context / "canary.txt").write_text(f"TOKEN={canary}\n")
    (context / "canary.txt.gz").write_bytes(gzip.compress(f"TOKEN={canary}\n".encode()))
    (context / "Dockerfile").write_text(
        f"FROM {base_images['debian']}\n"
        "COPY canary.txt canary.txt.gz /opt/planted/\n"
        "RUN rm -r /opt/planted\n")
    image = f"shipyard-layer-scan-test:{uuid.uuid4().hex[:12]}"
    subprocess.run(["docker", "build", "--quiet", "--tag", image, str(context)], check=True, capture_output=True,
                   timeout=300)
    try:
        listing = subprocess.run(["docker", "run", "--rm", image, "ls", "/opt"], check=True, capture_output=True,
                                 text=True, timeout=120).stdout
        assert "planted" not in listing  # gone from the file system...
        hits = layers_containing(image, canary.encode(), tmp_path)
        # ...but not from the layer that COPY made (the file and, decompressed, its gzip copy)
        assert sorted(hit.split(":", 1)[1] for hit in hits) == ["opt/planted/canary.txt", "opt/planted/canary.txt.gz"]
        assert len({hit.split(":", 1)[0] for hit in hits}) == 1
        assert layers_containing(base_images["debian"], canary.encode(), tmp_path) == []  # the base is clean
    finally:
        subprocess.run(["docker", "image", "rm", "--force", image], capture_output=True, timeout=120)
