"""The on-disk cache of built modules, safe across processes.

An entry is a directory named by the SHA-256 of what decides the build (the generated
source, the compiler and its flags, the CPU's features, the Python, NumPy and cffi versions)
under ``<config.compiledir>/c/``. It holds the library and ``meta.json`` (JSON, never
pickle) with the library's size and hash. Entries are built in a temporary directory and
renamed into place, under a lock file per entry (not one global lock): processes compiling
the same graph at once wait for the first and load its build. An entry whose metadata or
library does not check out is rebuilt. The cache directory is private to its user (0700).

Command line: ``python -m workbench.compiler.backends.c.cache [list|size|clear]``.

>>> from workbench.compiler.backends.c import cache
>>> cache.entry_key("int x;", "")[:4].isalnum()
True
"""
from __future__ import annotations

import argparse
import contextlib
import fcntl
import hashlib
import json
import os
import shutil
import sys
import tempfile
import time
from typing import Any, Iterator

from .build import build_module, load_module, toolchain_fingerprint


def cache_root() -> str:
    """``<compiledir>/c``, created private to this user."""
    from ....config import config

    root = os.path.join(os.path.expanduser(config.compiledir), "c")
    os.makedirs(root, mode=0o700, exist_ok=True)
    info = os.stat(root)
    if info.st_uid != os.getuid():
        raise PermissionError(f"the compile cache {root} belongs to another user; set "
                              f"workbench.config.compiledir to a directory of your own")
    if info.st_mode & 0o077:
        os.chmod(root, 0o700)
    return root


def entry_key(source: str, cdef: str) -> str:
    digest = hashlib.sha256()
    digest.update(json.dumps(toolchain_fingerprint(), sort_keys=True).encode())
    digest.update(b"\0" + cdef.encode() + b"\0" + source.encode())
    return digest.hexdigest()


def _sha256_file(path: str) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def read_entry(path: str) -> dict | None:
    """The metadata of a complete, intact entry, else None."""
    try:
        with open(os.path.join(path, "meta.json")) as fh:
            meta = json.load(fh)
        library = os.path.join(path, meta["library"])
        if os.path.getsize(library) != meta["size"] or _sha256_file(library) != meta["sha256"]:
            return None
        return meta
    except (OSError, ValueError, KeyError, TypeError):
        return None


@contextlib.contextmanager
def _locked(path: str) -> Iterator[None]:
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)


def _write_json(path: str, data: dict) -> None:
    fd, tmp = tempfile.mkstemp(dir=os.path.dirname(path), prefix=".meta.")
    with os.fdopen(fd, "w") as fh:
        json.dump(data, fh, indent=1, sort_keys=True)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)


def get_module(source: str, cdef: str, description: str = "") -> tuple[Any, bool]:
    """The loaded module for ``source``, building it if needed; and whether it was cached."""
    key = entry_key(source, cdef)
    name = "wb_" + key[:32]
    shard = os.path.join(cache_root(), key[:2])
    os.makedirs(shard, mode=0o700, exist_ok=True)
    entry = os.path.join(shard, key)
    meta = read_entry(entry)
    if meta is not None:
        with contextlib.suppress(ImportError, OSError):
            return load_module(os.path.join(entry, meta["library"]), name), True
    with _locked(entry + ".lock"):
        meta = read_entry(entry)  # another process may have built it while we waited
        if meta is not None:
            with contextlib.suppress(ImportError, OSError):
                return load_module(os.path.join(entry, meta["library"]), name), True
        tmp = tempfile.mkdtemp(dir=shard, prefix=f".{key[:16]}.build.")
        try:
            start = time.perf_counter()
            so_path = build_module(source, cdef, name, tmp)
            meta = {"key": key, "module": name, "library": os.path.basename(so_path),
                    "size": os.path.getsize(so_path), "sha256": _sha256_file(so_path),
                    "created": time.time(), "build_seconds": time.perf_counter() - start,
                    "description": description, "toolchain": toolchain_fingerprint()}
            _write_json(os.path.join(tmp, "meta.json"), meta)
            if os.path.exists(entry):  # a broken entry: move it aside, then remove it
                aside = tempfile.mkdtemp(dir=shard, prefix=f".{key[:16]}.old.")
                os.replace(entry, os.path.join(aside, "entry"))
                shutil.rmtree(aside, ignore_errors=True)
            os.replace(tmp, entry)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
    return load_module(os.path.join(entry, meta["library"]), name), False


def entries() -> list[dict]:
    """Every entry: key, path, size on disk, creation time, description, intact or not."""
    root = cache_root()
    found = []
    for shard in sorted(os.listdir(root)):
        shard_path = os.path.join(root, shard)
        if not os.path.isdir(shard_path):
            continue
        for name in sorted(os.listdir(shard_path)):
            path = os.path.join(shard_path, name)
            if name.startswith(".") or not os.path.isdir(path):
                continue
            size = sum(os.path.getsize(os.path.join(path, f)) for f in os.listdir(path))
            meta = read_entry(path)
            found.append({"key": name, "path": path, "bytes": size, "intact": meta is not None,
                          "created": (meta or {}).get("created"),
                          "description": (meta or {}).get("description", "")})
    return found


def clear() -> int:
    """Remove every entry; returns how many were removed."""
    root = cache_root()
    removed = 0
    for shard in os.listdir(root):
        shard_path = os.path.join(root, shard)
        if not os.path.isdir(shard_path):
            continue
        for name in os.listdir(shard_path):
            path = os.path.join(shard_path, name)
            if os.path.isdir(path):
                if not name.startswith("."):
                    removed += 1
                shutil.rmtree(path, ignore_errors=True)
            elif name.endswith(".lock"):
                with contextlib.suppress(OSError):
                    os.remove(path)
    return removed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="workbench-cache",
                                     description="List, size or clear workbench's compile cache.")
    parser.add_argument("command", choices=["list", "size", "clear"], nargs="?", default="list")
    args = parser.parse_args(argv)
    if args.command == "clear":
        print(f"removed {clear()} entries from {cache_root()}")
        return 0
    found = entries()
    total = sum(e["bytes"] for e in found)
    if args.command == "list":
        for e in found:
            when = time.strftime("%Y-%m-%d %H:%M", time.localtime(e["created"])) \
                if e["created"] else "?"
            state = "" if e["intact"] else "  (broken: will be rebuilt)"
            print(f"{e['key'][:16]}  {e['bytes'] / 1024:8.1f} KiB  {when}  "
                  f"{e['description'][:60]}{state}")
    print(f"{len(found)} entries, {total / 1024 / 1024:.1f} MiB in {cache_root()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
