"""Configuration flags: defaults, precedence, refusals, printing, change_flags.

Import-time behaviour (WORKBENCH_FLAGS, ~/.workbenchrc) is tested in subprocesses with a
temporary HOME, so the developer's own files never leak in.
"""
from __future__ import annotations

import os
import subprocess
import sys

import pytest

import workbench
from workbench.config import FLAGS, Config, ConfigError

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def run_import(tmp_path, code: str, flags: str | None = None, rc: str | None = None,
               rc_env: bool = False) -> subprocess.CompletedProcess:
    """Run ``import workbench; <code>`` with a fresh HOME (holding ``rc`` if given)."""
    tmp_path = tmp_path / f"home{len(list(tmp_path.iterdir()))}"
    tmp_path.mkdir()
    env = {k: v for k, v in os.environ.items()
           if k not in ("WORKBENCH_FLAGS", "WORKBENCHRC")}
    env["HOME"] = str(tmp_path)
    env["PYTHONPATH"] = ROOT + os.pathsep + env.get("PYTHONPATH", "")
    if flags is not None:
        env["WORKBENCH_FLAGS"] = flags
    if rc is not None:
        path = tmp_path / ("custom.rc" if rc_env else ".workbenchrc")
        path.write_text(rc)
        if rc_env:
            env["WORKBENCHRC"] = str(path)
    return subprocess.run([sys.executable, "-c", "import workbench\n" + code], env=env,
                          capture_output=True, text=True, cwd=str(tmp_path), timeout=60)


def test_defaults():
    c = Config(env="", rc_path="/nonexistent")
    assert c.floatX == "float64"
    assert c.device == "cpu"
    assert c.mode == "FAST_RUN"
    assert c.on_unused_input == "raise"
    for flag in FLAGS:
        assert c.source(flag.name) == "default"


def test_precedence_in_one_process(tmp_path):
    rc = tmp_path / "rc"
    rc.write_text("[global]\nfloatX = float32\nmode = FAST_COMPILE\n")
    c = Config(env="floatX=float16", rc_path=str(rc))
    assert c.floatX == "float16"  # env beats rc
    assert c.mode == "FAST_COMPILE"  # rc beats default
    assert "WORKBENCH_FLAGS" in c.source("floatX") and str(rc) in c.source("mode")
    c.floatX = "float64"  # code beats env
    assert c.floatX == "float64" and c.source("floatX") == "set in code"


def test_rc_without_global_section_is_ignored(tmp_path):
    rc = tmp_path / "rc"
    rc.write_text("[other]\nfloatX = float32\n")
    assert Config(env="", rc_path=str(rc)).floatX == "float64"


def test_import_time_precedence(tmp_path):
    code = "print(workbench.config.floatX, workbench.config.mode)"
    plain = run_import(tmp_path, code)
    assert plain.stdout.split() == ["float64", "FAST_RUN"], plain.stderr
    from_rc = run_import(tmp_path, code, rc="[global]\nfloatX = float32\nmode=FAST_COMPILE\n")
    assert from_rc.stdout.split() == ["float32", "FAST_COMPILE"], from_rc.stderr
    both = run_import(tmp_path, code, flags="floatX=float16",
                      rc="[global]\nfloatX = float32\nmode=FAST_COMPILE\n")
    assert both.stdout.split() == ["float16", "FAST_COMPILE"], both.stderr
    named = run_import(tmp_path, code, rc="[global]\nfloatX = float32\n", rc_env=True)
    assert named.stdout.split() == ["float32", "FAST_RUN"], named.stderr
    in_code = run_import(tmp_path, "workbench.config.floatX = 'float64'\n" + code,
                         flags="floatX=float32")
    assert in_code.stdout.split() == ["float64", "FAST_RUN"], in_code.stderr


@pytest.mark.parametrize("flags,rc,expected", [
    ("floatx=float32", None, ["unknown config flag 'floatx'", "WORKBENCH_FLAGS", "floatX"]),
    ("floatX=float8", None, ["'floatX'", "'float8'", "'float64', 'float32', 'float16'"]),
    ("mode=FAST", None, ["'mode'", "FAST_RUN"]),
    ("device=tpu", None, ["'device'", "cuda"]),
    ("floatX", None, ["not of the form name=value"]),
    (None, "[global]\nbogus = 1\n", ["unknown config flag 'bogus'", ".workbenchrc"]),
    (None, "[global]\nprofile = maybe\n", ["'profile'", "boolean"]),
    (None, "not an ini file", ["cannot parse"]),
])
def test_bad_flags_stop_import(tmp_path, flags, rc, expected):
    result = run_import(tmp_path, "print('imported')", flags=flags, rc=rc)
    assert result.returncode != 0 and "imported" not in result.stdout
    assert "ConfigError" in result.stderr
    for part in expected:
        assert part in result.stderr, (part, result.stderr)


def test_assignment_checks_values():
    with pytest.raises(ConfigError, match=r"'floatX'.*'int8'.*'float64', 'float32'"):
        workbench.config.floatX = "int8"
    with pytest.raises(ConfigError, match=r"unknown config flag 'nope'.*floatX"):
        workbench.config.nope = 1
    with pytest.raises(AttributeError, match="nope"):
        workbench.config.nope
    workbench.config.profile = "yes"
    assert workbench.config.profile is True
    workbench.config.device = "cuda1"
    assert workbench.config.device == "cuda1"
    workbench.config.optimizer_excluding = "fusion:inplace"
    assert workbench.config.optimizer_excluding == ("fusion", "inplace")
    with pytest.raises(ConfigError, match="openmp_elemwise_minsize"):
        workbench.config.openmp_elemwise_minsize = -1


def test_print_lists_every_flag():
    text = str(workbench.config)
    for flag in FLAGS:
        assert flag.name in text
    assert "Value: 'float64'" in text and "Doc:" in text
    assert set(dir(workbench.config)) == {f.name for f in FLAGS}


def test_change_flags_restores_even_on_error():
    assert workbench.config.floatX == "float64"
    with pytest.raises(RuntimeError):
        with workbench.change_flags(floatX="float32", mode="FAST_COMPILE"):
            assert workbench.config.floatX == "float32"
            assert workbench.config.source("floatX") == "set by change_flags"
            raise RuntimeError
    assert workbench.config.floatX == "float64" and workbench.config.mode == "FAST_RUN"
    with pytest.raises(ConfigError):
        with workbench.config.change_flags(floatX="float128"):
            pass
    assert workbench.config.floatX == "float64"
