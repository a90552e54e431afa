"""The compile cache (cache.py): processes compiling the same graphs at once build each once;
broken entries are rebuilt; a compile error leaves nothing behind; permissions; the CLI.

Every test gets a fresh cache directory. Worker processes are separate Python processes
(subprocess) pointed at it through WORKBENCH_FLAGS.
"""
import json
import os
import stat
import subprocess
import sys
import textwrap
import time

import numpy as np
import pytest

import workbench
from workbench import tensor as T
from workbench.compiler.backends.c import build, cache, registry
from workbench.compiler.backends.c.build import CompileError, compiler_available
from workbench.compiler.mode import Mode
from workbench.compiler.ops import scalar
from workbench.compiler.ops.elemwise import Elemwise

pytestmark = pytest.mark.skipif(not compiler_available(), reason="no C compiler")

REPO = os.path.dirname(os.path.dirname(workbench.__file__))

# Two graphs every worker compiles, calls and reports on (one JSON line).
WORKER = textwrap.dedent("""
    import json, subprocess, sys
    import numpy as np
    calls = []
    real_popen = subprocess.Popen.__init__
    def popen(self, *args, **kwargs):
        calls.append(str(args[0] if args else kwargs.get("args"))[:80])
        real_popen(self, *args, **kwargs)
    subprocess.Popen.__init__ = popen
    import workbench
    from workbench import tensor as T
    from workbench.compiler.mode import Mode
    if sys.argv[1] == "wait":
        print("ready", flush=True)
        sys.stdin.readline()  # all workers start compiling at once
    x, y = T.dvector("x"), T.dvector("y")
    graphs = {"ew": [T.exp(x) * y + 1], "two": [x * y, T.sqrt(x + y)]}
    report = {"hits": {}, "ok": {}}
    a, b = np.arange(1.0, 5.0), np.full(4, 2.0)
    want = {"ew": [np.exp(a) * b + 1], "two": [a * b, np.sqrt(a + b)]}
    for name, outs in graphs.items():
        f = workbench.function([x, y], outs, mode=Mode("c", "fast_run"))
        report["hits"][name] = f.cache_hit
        report["ok"][name] = all(np.allclose(g, w) for g, w in zip(f(a, b), want[name]))
    report["compiler_runs"] = calls
    report["cffi_parser_loaded"] = "pycparser" in sys.modules
    print(json.dumps(report), flush=True)
""")


def worker_env(compiledir):
    env = dict(os.environ)
    env["WORKBENCH_FLAGS"] = f"compiledir={compiledir}"
    env["PYTHONPATH"] = REPO + os.pathsep + env.get("PYTHONPATH", "")
    env.pop("PYTHONDONTWRITEBYTECODE", None)  # eight cold imports would each recompile
    return env


def run_workers(tmp_path, n, wait=True):
    """Start ``n`` workers; with ``wait``, release them together once all have imported."""
    script = tmp_path / "worker.py"
    script.write_text(WORKER)
    env = worker_env(tmp_path / "cache")
    procs = [subprocess.Popen([sys.executable, str(script), "wait" if wait else "go"],
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True, env=env)
             for _ in range(n)]
    if wait:
        for p in procs:
            assert p.stdout.readline().strip() == "ready", p.stderr.read()
        for p in procs:
            p.stdin.write("go\n")
            p.stdin.flush()
    reports = []
    for p in procs:
        out, err = p.communicate(timeout=600)
        assert p.returncode == 0, err
        reports.append(json.loads(out.strip().splitlines()[-1]))
    return reports


@pytest.fixture
def fresh_cache(tmp_path, monkeypatch):
    """This process's cache is ``tmp_path/cache`` (the workers' too)."""
    workbench.config.compiledir = str(tmp_path / "cache")
    monkeypatch.setattr(cache, "_templates", {})
    monkeypatch.setattr(cache, "_pch_state", {})
    yield os.path.join(str(tmp_path / "cache"), "c")
    cache.wait_for_pch()


def leftovers(root):
    """Temporary and half-removed directories anywhere under the cache root."""
    found = []
    for dirpath, dirnames, _ in os.walk(root):
        found += [os.path.join(dirpath, d) for d in dirnames
                  if ".build." in d or d.startswith(".removing.")]
    return found


def mode_bits(path):
    return stat.S_IMODE(os.stat(path).st_mode)


def test_concurrent_processes_build_each_graph_once(tmp_path, fresh_cache):
    reports = run_workers(tmp_path, 8)
    assert all(all(r["ok"].values()) for r in reports)
    for name in ("ew", "two"):
        built = [r for r in reports if not r["hits"][name]]
        assert len(built) == 1, [r["hits"] for r in reports]
    log = cache.build_log()
    assert len(log) == 2 and len({e["key"] for e in log}) == 2
    found = cache.entries()
    assert len(found) == 2 and all(e["intact"] for e in found)
    # processes that loaded a build ran no compiler and never imported cffi's parser
    for r in reports:
        if all(r["hits"].values()):
            assert r["compiler_runs"] == [] and not r["cffi_parser_loaded"], r
    # private to the user: the root, its shards, the entries
    assert mode_bits(fresh_cache) == 0o700
    for e in found:
        assert mode_bits(e["path"]) == 0o700
        assert mode_bits(os.path.dirname(e["path"])) == 0o700
    cache.wait_for_pch()
    assert leftovers(fresh_cache) == []


def test_broken_entries_are_rebuilt(tmp_path, fresh_cache):
    x, y = T.dvector("x"), T.dvector("y")
    # built here, loaded again by a new process (this one keeps its loaded module)
    f_ew = workbench.function([x, y], [T.exp(x) * y + 1], mode=Mode("c", "fast_run"))
    f_two = workbench.function([x, y], [x * y, T.sqrt(x + y)], mode=Mode("c", "fast_run"))
    assert not f_ew.cache_hit and not f_two.cache_hit
    by_key = {e["key"]: e for e in cache.entries()}
    ew, two = (cache.entry_key(f.source, _cdef()) for f in (f_ew, f_two))
    assert set(by_key) == {ew, two}
    # a truncated library, a corrupted metadata file, a builder killed half-way
    lib = os.path.join(by_key[ew]["path"], json.load(open(os.path.join(
        by_key[ew]["path"], "meta.json")))["library"])
    data = open(lib, "rb").read()
    with open(lib + ".tmp", "wb") as fh:  # a new file: this process has the old one mapped
        fh.write(data[:len(data) // 2])
    os.replace(lib + ".tmp", lib)
    with open(os.path.join(by_key[two]["path"], "meta.json"), "w") as fh:
        fh.write('{"key": "')
    stale = os.path.join(os.path.dirname(by_key[ew]["path"]), f".{ew}.build.killed")
    os.makedirs(stale)
    assert [e["intact"] for e in cache.entries()] == [False, False]

    reports = run_workers(tmp_path, 1, wait=False)
    assert reports[0]["ok"] == {"ew": True, "two": True}
    assert reports[0]["hits"] == {"ew": False, "two": False}
    assert all(e["intact"] for e in cache.entries())
    assert sorted(e["key"] for e in cache.build_log()) == sorted([ew, two, ew, two])
    assert leftovers(fresh_cache) == []
    # once rebuilt, the next process loads them
    assert run_workers(tmp_path, 1, wait=False)[0]["hits"] == {"ew": True, "two": True}


def _cdef():
    from workbench.compiler.backends.c.linker import CDEF

    return CDEF


def test_compile_error_names_node_and_leaves_nothing(fresh_cache, monkeypatch):
    registry.emitter_for(Elemwise(scalar.add))  # load the emitters before replacing one

    def broken(cn):
        if cn.node.op.scalar_op == scalar.sub:
            return "double y = this_is_not_c + ;"
        return None

    monkeypatch.setitem(registry.EMITTERS, Elemwise, broken)
    x, y = T.dvector("x"), T.dvector("y")
    with pytest.raises(CompileError) as err:
        workbench.function([x, y], [x - y], mode=Mode("c", "fast_run"))
    message = str(err.value)
    assert "the C compiler rejected the generated code" in message
    assert "in the block of node Elemwise{sub} (graph node n" in message
    assert "> " in message and "this_is_not_c + ;" in message
    assert err.value.node.startswith("Elemwise{sub}")
    assert "this_is_not_c" in err.value.source.splitlines()[err.value.line - 1]
    cache.wait_for_pch()
    # no entry, no temporary directory, nothing logged
    assert cache.entries() == [] and cache.build_log() == []
    assert leftovers(fresh_cache) == []
    for shard in os.listdir(fresh_cache):
        if len(shard) == 2:
            assert [n for n in os.listdir(os.path.join(fresh_cache, shard))
                    if not n.endswith(".lock")] == []


def test_cli_lists_sizes_and_clears(tmp_path, fresh_cache, capsys):
    x = T.dvector("x")
    workbench.function([x], x * 3, mode=Mode("c", "fast_run"))
    cache.wait_for_pch()
    assert cache.main(["list"]) == 0
    out = capsys.readouterr().out
    assert "1 entries" in out and "1 nodes: Elemwise" in out.splitlines()[0]
    assert cache.main(["size"]) == 0
    sizes = cache.sizes()
    assert sizes["entries"] > 0 and sizes["total"] == sizes["entries"] + sizes["support"]
    assert f"in {fresh_cache}" in capsys.readouterr().out
    # the module's command line, in a process of its own
    done = subprocess.run([sys.executable, "-m", "workbench.compiler.backends.c.cache", "clear"],
                          capture_output=True, text=True, env=worker_env(tmp_path / "cache"))
    assert done.returncode == 0, done.stderr
    assert "removed 1 entries" in done.stdout
    assert cache.entries() == [] and cache.sizes()["total"] == 0
    assert cache.main(["list"]) == 0
    assert "0 entries" in capsys.readouterr().out


def test_clear_leaves_entries_being_built(fresh_cache):
    busy, idle = "ab" * 32, "cd" * 32
    for key in (busy, idle):
        path = os.path.join(fresh_cache, key[:2], key)
        os.makedirs(path)
        open(os.path.join(path, "meta.json"), "w").write("{}")
    with cache._locked(os.path.join(fresh_cache, "ab", f".{busy}.lock")):
        done = cache.clear()
    assert done == {"removed": 1, "busy": 1}
    assert [e["key"] for e in cache.entries()] == [busy]
    assert cache.clear() == {"removed": 1, "busy": 0}
    assert os.listdir(fresh_cache) == []


def test_lock_is_per_entry(fresh_cache):
    """Holding one entry's lock does not stop another entry's build."""
    shard = os.path.join(fresh_cache, "00")
    os.makedirs(shard)
    with cache._locked(os.path.join(shard, "." + "0" * 64 + ".lock")):
        start = time.perf_counter()
        with cache._locked(os.path.join(shard, "." + "1" * 64 + ".lock"), wait=False) as held:
            assert held
        with cache._locked(os.path.join(shard, "." + "0" * 64 + ".lock"), wait=False) as held:
            assert not held
        assert time.perf_counter() - start < 1


def test_same_graph_twice_in_one_process_is_a_hit(fresh_cache):
    x = T.dvector("x")
    first = workbench.function([x], T.tanh(x) + 2, mode=Mode("c", "fast_run"))
    second = workbench.function([x], T.tanh(x) + 2, mode=Mode("c", "fast_run"))
    assert not first.cache_hit and second.cache_hit
    np.testing.assert_allclose(second(np.zeros(2)), [2.0, 2.0])
    assert len(cache.build_log()) == 1


def test_precompiled_header_is_made_once_and_used(fresh_cache, monkeypatch):
    x = T.dvector("x")
    workbench.function([x], x - 7, mode=Mode("c", "fast_run"))
    header = cache.wait_for_pch()
    assert header is not None and os.path.exists(header + ".gch")
    assert mode_bits(os.path.dirname(header)) == 0o700
    used = []
    real = build.build_module

    def spy(c_code, name, directory, pch=None):
        used.append(pch)
        return real(c_code, name, directory, pch)

    monkeypatch.setattr(build, "build_module", spy)
    f = workbench.function([x], abs(x) * x, mode=Mode("c", "fast_run"))
    assert used == [header] and not f.cache_hit
    np.testing.assert_array_equal(f(np.array([-2.0, 3.0])), [-4.0, 9.0])
    # a damaged header is not used (and is remade)
    with open(header + ".gch", "r+b") as fh:
        fh.truncate(1000)
    monkeypatch.setattr(cache, "_pch_state", {})
    assert cache._pch_header() is None
    assert cache.wait_for_pch() == header


def test_key_ignores_node_ids():
    """The block comments carry process-wide node ids: the same graph made after others
    must still find its build."""
    from workbench.compiler.backends.c.linker import CDEF, CLinker
    from workbench.compiler.fgraph import FunctionGraph

    def source():
        x = T.dvector("x")
        return CLinker(FunctionGraph([x], [T.exp(x) * 2])).source

    first = source()
    T.dmatrix("unrelated").sum() + 1  # more nodes: the next graph's ids differ
    second = source()
    assert first != second and "/* node n" in first
    assert cache.entry_key(first, CDEF) == cache.entry_key(second, CDEF)
    assert cache.entry_key(first, CDEF) != cache.entry_key(first.replace("2", "3"), CDEF)
