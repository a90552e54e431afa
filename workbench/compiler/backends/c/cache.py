"""The on-disk cache of built modules, safe across processes.

Layout under ``<config.compiledir>/c/`` (private to its user: 0700)::

    <kk>/<key>/              an entry: the library, its C file and meta.json
    <kk>/.<key>.lock         the entry's lock (one per entry, never one global lock)
    <kk>/.<key>.build.*      an entry being built (renamed to <key> when complete)
    support/                 cffi's wrapper template and the precompiled header, per toolchain
    builds.jsonl             one line per build: which key, which process, how long

An entry is named by the SHA-256 of what decides the build: the generated source, the
compiler (its file) and flags, the CPU's features, the Python, NumPy and cffi versions. Its
``meta.json`` (JSON, never pickle) holds the library's size and hash; an entry whose metadata
or library does not check out is rebuilt. A build happens in a temporary directory under the
entry's lock and is renamed into place, so other processes see a complete entry or none:
processes compiling the same graph at once wait for the first and load its build.

Command line: ``python -m workbench.compiler.backends.c.cache [list|size|clear]``
(also installed as ``workbench-cache``).

>>> from workbench.compiler.backends.c import cache
>>> len(cache.entry_key("int x;", ""))
64
"""
from __future__ import annotations

import argparse
import contextlib
import errno
import fcntl
import hashlib
import json
import os
import re
import shutil
import sys
import tempfile
import threading
import time
from typing import Any, Iterator

from . import build

#: build a precompiled header of Python.h and NumPy's headers once per toolchain and use it
#: in every later build (saves 0.2-0.3 s of compiler time per module)
USE_PCH = True

_LOG = "builds.jsonl"
_SUPPORT = "support"


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


#: the linker's block comments carry the graph record's node ids, which count the nodes a
#: process has made: the same graph built after others gets other ids, not another build
_NODE_IDS = re.compile(r"/\* (end )?node n\d+\b")


def entry_key(source: str, cdef: str) -> str:
    """The SHA-256 naming the build of ``source``: toolchain, declarations and source, with
    the node ids of the block comments left out."""
    digest = hashlib.sha256()
    digest.update(json.dumps(build.toolchain_key(), sort_keys=True).encode())
    digest.update(b"\0" + cdef.encode() + b"\0")
    digest.update(_NODE_IDS.sub(r"/* \1node", source).encode())
    return digest.hexdigest()


def _sha256_file(path: str) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def read_entry(path: str, key: str | None = None) -> dict | None:
    """The metadata of a complete, intact entry (of ``key``, when given), else None."""
    try:
        with open(os.path.join(path, "meta.json")) as fh:
            meta = json.load(fh)
        if key is not None and meta["key"] != key:
            return None
        library = os.path.join(path, meta["library"])
        if os.path.getsize(library) != meta["size"] or _sha256_file(library) != meta["sha256"]:
            return None
        return meta
    except (OSError, ValueError, KeyError, TypeError):
        return None


@contextlib.contextmanager
def _locked(path: str, wait: bool = True) -> Iterator[bool]:
    """Hold the lock file ``path``; yields False (holding nothing) when ``wait`` is False
    and another process holds it. A lock file removed by ``clear`` while we waited for it
    is not a lock any more: we then lock the new file at that path."""
    while True:
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | (0 if wait else fcntl.LOCK_NB))
        except OSError as exc:
            os.close(fd)
            if exc.errno in (errno.EWOULDBLOCK, errno.EAGAIN):
                yield False
                return
            raise
        try:
            same = os.fstat(fd).st_ino == os.stat(path).st_ino
        except FileNotFoundError:
            same = False
        if same:
            break
        os.close(fd)
    try:
        yield True
    finally:
        os.close(fd)  # releases the lock


def _write_atomic(path: str, text: str) -> None:
    """Write ``text`` to ``path`` so that readers see the old file or the whole new one."""
    fd, tmp = tempfile.mkstemp(dir=os.path.dirname(path), prefix="." + os.path.basename(path))
    try:
        with os.fdopen(fd, "w") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.remove(tmp)
        raise


def _write_json(path: str, data: dict) -> None:
    _write_atomic(path, json.dumps(data, indent=1, sort_keys=True))


def _remove_tree(path: str, parent: str) -> None:
    """Remove a directory: first renamed out of the way (so nobody sees it half removed)."""
    aside = tempfile.mkdtemp(dir=parent, prefix=".removing.")
    try:
        os.replace(path, os.path.join(aside, "x"))
    except FileNotFoundError:
        pass
    shutil.rmtree(aside, ignore_errors=True)


def _log_build(root: str, meta: dict) -> None:
    line = json.dumps({"key": meta["key"], "pid": os.getpid(), "time": meta["created"],
                       "seconds": round(meta["build_seconds"], 4),
                       "description": meta["description"]}) + "\n"
    fd = os.open(os.path.join(root, _LOG), os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    try:
        os.write(fd, line.encode())  # one write in append mode: lines never interleave
    finally:
        os.close(fd)


def build_log() -> list[dict]:
    """Every build this cache has seen, oldest first: key, pid, time, seconds, description."""
    try:
        with open(os.path.join(cache_root(), _LOG)) as fh:
            return [json.loads(line) for line in fh if line.strip()]
    except FileNotFoundError:
        return []


# -- modules ---------------------------------------------------------------------------------
def _load_entry(entry: str, key: str, name: str) -> Any | None:
    meta = read_entry(entry, key)
    if meta is None:
        return None
    try:
        return build.load_module(os.path.join(entry, meta["library"]), name)
    except (ImportError, OSError):
        return None


def get_module(source: str, cdef: str, description: str = "") -> tuple[Any, bool]:
    """The loaded module for ``source``, building it if needed; and whether it was cached
    (in this process or on disk)."""
    key = entry_key(source, cdef)
    name = "wb_" + key[:32]
    if name in sys.modules:
        return sys.modules[name], True
    root = cache_root()
    shard = os.path.join(root, key[:2])
    os.makedirs(shard, mode=0o700, exist_ok=True)
    entry = os.path.join(shard, key)
    module = _load_entry(entry, key, name)
    if module is not None:
        return module, True
    with _locked(os.path.join(shard, f".{key}.lock")):
        module = _load_entry(entry, key, name)  # built by another process while we waited
        if module is not None:
            return module, True
        for stale in os.listdir(shard):  # left by a builder that was killed
            if stale.startswith(f".{key}.build."):
                shutil.rmtree(os.path.join(shard, stale), ignore_errors=True)
        tmp = tempfile.mkdtemp(dir=shard, prefix=f".{key}.build.")
        try:
            c_code = build.fill_template(_template(cdef), source, name)
            start = time.perf_counter()
            pch = _pch_header()
            try:
                so_path = build.build_module(c_code, name, tmp, pch=pch)
            except build.CompileError:
                if pch is None or os.path.exists(pch):
                    raise
                # the header went away (``clear`` in another process): build without it
                so_path = build.build_module(c_code, name, tmp)
            meta = {"key": key, "module": name, "library": os.path.basename(so_path),
                    "size": os.path.getsize(so_path), "sha256": _sha256_file(so_path),
                    "created": time.time(), "build_seconds": time.perf_counter() - start,
                    "description": description, "toolchain": build.toolchain_fingerprint()}
            _write_json(os.path.join(tmp, "meta.json"), meta)
            if os.path.lexists(entry):  # a broken entry
                _remove_tree(entry, shard)
            os.replace(tmp, entry)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
        _log_build(root, meta)
        return build.load_module(os.path.join(entry, meta["library"]), name), False


# -- support files: cffi's wrapper template, the precompiled header ------------------------
_templates: dict[str, str] = {}
_TEMPLATE_END = "/* end of template, sha256 "


def _support_dir() -> str:
    path = os.path.join(cache_root(), _SUPPORT)
    os.makedirs(path, mode=0o700, exist_ok=True)
    return path


def _template(cdef: str) -> str:
    """cffi's wrapper template for ``cdef``: from memory, from disk, or made (slow)."""
    tkey = build.toolchain_key()
    ident = hashlib.sha256(f"{tkey['cffi']}\0{tkey['python']}\0{cdef}".encode()).hexdigest()
    if ident in _templates:
        return _templates[ident]
    path = os.path.join(_support_dir(), f"cffi-{ident[:24]}.c")
    text = None
    with contextlib.suppress(OSError, ValueError):
        with open(path) as fh:
            stored = fh.read()
        body, _, tail = stored.rpartition(_TEMPLATE_END)
        if tail.split(" ")[0] == hashlib.sha256(body.encode()).hexdigest():
            text = body
    if text is None:
        text = build.wrapper_template(cdef)
        digest = hashlib.sha256(text.encode()).hexdigest()
        _write_atomic(path, f"{text}{_TEMPLATE_END}{digest} */\n")
    _templates[ident] = text
    return text


_pch_lock = threading.Lock()
_pch_state: dict[str, Any] = {}  # "path": the checked header's directory, "started": set
def _pch_ident() -> str:
    blob = json.dumps([build.toolchain_key(), build.PCH_TEXT], sort_keys=True)
    return "pch-" + hashlib.sha256(blob.encode()).hexdigest()[:24]


def _read_pch(path: str) -> str | None:
    """The header of an intact precompiled-header directory, else None."""
    try:
        with open(os.path.join(path, "meta.json")) as fh:
            meta = json.load(fh)
        gch = os.path.join(path, build.PCH_NAME + ".gch")
        if os.path.getsize(gch) != meta["size"] or _sha256_file(gch) != meta["sha256"]:
            return None
        return os.path.join(path, build.PCH_NAME)
    except (OSError, ValueError, KeyError, TypeError):
        return None


def _pch_header() -> str | None:
    """The precompiled header to build with, or None while there is none yet.

    The first build of a toolchain starts making it in a thread and goes on without it
    (on two cores the two compilations overlap), so a new cache pays little for it; later
    builds, in this process or others, use it. Made under its own lock in a temporary
    directory renamed into place; a failure is remembered (``<ident>.failed``) and the cache
    then builds without one.
    """
    if not USE_PCH or not build.compiler_available():
        return None
    with _pch_lock:
        support = _support_dir()
        ident = _pch_ident()
        path = os.path.join(support, ident)
        header = os.path.join(path, build.PCH_NAME)
        if _pch_state.get("path") == path and os.path.exists(header + ".gch"):
            return header  # checked before by this process
        if _read_pch(path) is not None:
            _pch_state["path"] = path
            return header
        started = _pch_state.setdefault("started", set())
        if os.path.exists(path + ".failed") or path in started:
            return None
        started.add(path)
    # not a daemon: a short script waits for it at exit rather than leave it half made
    threading.Thread(target=_make_pch, args=(support, ident), name="workbench-pch").start()
    return None


def _make_pch(support: str, ident: str) -> None:
    path = os.path.join(support, ident)
    with contextlib.suppress(OSError), _locked(path + ".lock", wait=False) as held:
        if not held or _read_pch(path) is not None:
            return  # another process is making it, or has made it
        for stale in os.listdir(support):
            if stale.startswith(f".{ident}.build."):
                shutil.rmtree(os.path.join(support, stale), ignore_errors=True)
        tmp = tempfile.mkdtemp(dir=support, prefix=f".{ident}.build.")
        try:
            try:
                build.build_pch(tmp)
            except build.CompileError as exc:
                _write_atomic(path + ".failed", str(exc))
                return
            gch = os.path.join(tmp, build.PCH_NAME + ".gch")
            _write_json(os.path.join(tmp, "meta.json"),
                        {"size": os.path.getsize(gch), "sha256": _sha256_file(gch),
                         "created": time.time(), "toolchain": build.toolchain_key()})
            if os.path.lexists(path):
                _remove_tree(path, support)
            os.replace(tmp, path)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)


def wait_for_pch(timeout: float = 120.0) -> str | None:
    """Wait until the precompiled header this process started is made; its path or None."""
    deadline = time.monotonic() + timeout
    for thread in threading.enumerate():
        if thread.name == "workbench-pch":
            thread.join(max(deadline - time.monotonic(), 0))
    return _pch_header()


# -- listing and clearing ---------------------------------------------------------------------
def _shards(root: str) -> list[str]:
    return sorted(name for name in os.listdir(root) if len(name) == 2
                  and all(c in "0123456789abcdef" for c in name)
                  and os.path.isdir(os.path.join(root, name)))


def _is_key(name: str) -> bool:
    return len(name) == 64 and all(c in "0123456789abcdef" for c in name)


def _tree_bytes(path: str) -> int:
    total = 0
    for dirpath, _, files in os.walk(path):
        for f in files:
            with contextlib.suppress(OSError):
                total += os.lstat(os.path.join(dirpath, f)).st_size
    return total


def entries() -> list[dict]:
    """Every entry: key, path, bytes on disk, creation time, build seconds, description,
    and whether it is intact."""
    root = cache_root()
    found = []
    for shard in _shards(root):
        shard_path = os.path.join(root, shard)
        for name in sorted(os.listdir(shard_path)):
            path = os.path.join(shard_path, name)
            if not _is_key(name) or not os.path.isdir(path):
                continue
            meta = read_entry(path, name) or {}
            found.append({"key": name, "path": path, "bytes": _tree_bytes(path),
                          "intact": bool(meta), "created": meta.get("created"),
                          "build_seconds": meta.get("build_seconds"),
                          "description": meta.get("description", "")})
    return found


def sizes() -> dict[str, int]:
    """Bytes on disk: entries, support files (template, precompiled header), and all."""
    root = cache_root()
    total = _tree_bytes(root)
    support = _tree_bytes(os.path.join(root, _SUPPORT))
    return {"entries": total - support, "support": support, "total": total}


def clear() -> dict[str, int]:
    """Remove every entry and support file not in use; returns how many entries were
    removed and how many were skipped because a process was building them."""
    root = cache_root()
    removed = busy = 0
    for shard in _shards(root):
        shard_path = os.path.join(root, shard)
        keys = set()
        for name in os.listdir(shard_path):
            key = name.lstrip(".").split(".")[0]
            if _is_key(key):
                keys.add(key)
            elif name.startswith(".removing."):  # left by an interrupted removal
                shutil.rmtree(os.path.join(shard_path, name), ignore_errors=True)
        for key in sorted(keys):
            lock = os.path.join(shard_path, f".{key}.lock")
            with _locked(lock, wait=False) as held:
                if not held:
                    busy += 1
                    continue
                for name in os.listdir(shard_path):
                    if name == key or name.startswith(f".{key}."):
                        path = os.path.join(shard_path, name)
                        if os.path.isdir(path) and not os.path.islink(path):
                            removed += name == key
                            shutil.rmtree(path, ignore_errors=True)
                        elif name != f".{key}.lock":
                            with contextlib.suppress(OSError):
                                os.remove(path)
                with contextlib.suppress(OSError):
                    os.remove(lock)  # while held: see _locked
        with contextlib.suppress(OSError):
            os.rmdir(shard_path)  # fails when not empty (a busy entry)
    support = os.path.join(root, _SUPPORT)
    if os.path.isdir(support):
        for name in os.listdir(support):
            path = os.path.join(support, name)
            if name.startswith("pch-") and not name.endswith((".lock", ".failed")):
                with _locked(path + ".lock", wait=False) as held:
                    if held:
                        shutil.rmtree(path, ignore_errors=True)
                        for stale in os.listdir(support):
                            if stale.startswith(f".{name}.build."):
                                shutil.rmtree(os.path.join(support, stale), ignore_errors=True)
            elif not name.endswith(".lock") and not name.startswith("."):
                with contextlib.suppress(OSError):
                    os.remove(path)
    with contextlib.suppress(OSError):
        os.remove(os.path.join(root, _LOG))
    _templates.clear()
    _pch_state.clear()
    return {"removed": removed, "busy": busy}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="workbench-cache", description="List, size or clear workbench's compile cache "
        "(config.compiledir, set with WORKBENCH_FLAGS=compiledir=...).")
    parser.add_argument("command", choices=["list", "size", "clear"], nargs="?", default="list")
    args = parser.parse_args(argv)
    root = cache_root()
    if args.command == "clear":
        done = clear()
        print(f"removed {done['removed']} entries from {root}"
              + (f"; {done['busy']} being built by other processes were left" if done["busy"]
                 else ""))
        return 0
    found = entries()
    if args.command == "list":
        for e in found:
            when = time.strftime("%Y-%m-%d %H:%M", time.localtime(e["created"])) \
                if e["created"] else "?"
            took = f"{e['build_seconds']:6.2f} s" if e["build_seconds"] is not None else "     ?"
            state = "" if e["intact"] else "  (broken: will be rebuilt)"
            print(f"{e['key'][:16]}  {e['bytes'] / 1024:8.1f} KiB  {when}  {took}  "
                  f"{e['description'][:60]}{state}")
    size = sizes()
    print(f"{len(found)} entries, {size['entries'] / 2**20:.1f} MiB; support files "
          f"{size['support'] / 2**20:.1f} MiB; {size['total'] / 2**20:.1f} MiB in {root}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
