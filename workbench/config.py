"""Configuration flags.

Precedence, highest first: assignment in code (``workbench.config.floatX = 'float32'``),
the ``WORKBENCH_FLAGS`` environment variable (``floatX=float32,mode=FAST_COMPILE``),
the ``[global]`` section of ``~/.workbenchrc`` (or the files named by ``WORKBENCHRC``,
separated by ``os.pathsep``, a later file overriding an earlier one),
then the defaults. An unknown flag or a bad value raises :class:`ConfigError` naming the
flag, the value and what is allowed.

>>> import workbench
>>> workbench.config.floatX
'float64'
"""
from __future__ import annotations

import configparser
import contextlib
import os
import re
from dataclasses import dataclass
from typing import Any, Callable, Iterator


class ConfigError(ValueError):
    """A configuration flag was unknown or given a value it does not accept."""


@dataclass
class Flag:
    name: str
    default: Any
    doc: str
    allowed: tuple | None = None  # a closed set of values, or None
    check: Callable[[Any], Any] | None = None  # converts/validates free-form values
    allowed_text: str = ""

    def convert(self, value: Any, where: str) -> Any:
        if self.allowed is not None:
            if isinstance(value, str):
                value = value.strip()
            if value not in self.allowed:
                raise ConfigError(
                    f"config flag {self.name!r} ({where}) got {value!r}; "
                    f"allowed values: {', '.join(map(repr, self.allowed))}")
            return value
        if self.check is not None:
            try:
                return self.check(value)
            except (TypeError, ValueError) as exc:
                raise ConfigError(
                    f"config flag {self.name!r} ({where}) got {value!r}; "
                    f"expected {self.allowed_text or 'a valid value'} ({exc})") from None
        return value


def _bool(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in ("1", "true", "yes", "on"):
        return True
    if text in ("0", "false", "no", "off"):
        return False
    raise ValueError("not a boolean")


def _device(value: Any) -> str:
    text = str(value).strip()
    if text == "cpu" or text == "cuda" or re.fullmatch(r"cuda\d+", text):
        return text
    raise ValueError("device is 'cpu', 'cuda' or 'cudaN'")


def _tags(value: Any) -> tuple[str, ...]:
    if isinstance(value, (list, tuple)):
        return tuple(str(v) for v in value)
    return tuple(t for t in re.split(r"[:,\s]+", str(value)) if t)


def _path(value: Any) -> str:
    return os.path.expanduser(str(value))


def _positive_int(value: Any) -> int:
    number = int(value)
    if number < 0:
        raise ValueError("must be >= 0")
    return number


def _default_compiledir() -> str:
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(base, "workbench")


FLAGS: tuple[Flag, ...] = (
    Flag("floatX", "float64", "dtype of T.scalar(), T.matrix(), ... and of Python float constants",
         allowed=("float64", "float32", "float16")),
    Flag("device", "cpu", "where compiled functions run", check=_device,
         allowed_text="'cpu', 'cuda' or 'cudaN'"),
    Flag("mode", "FAST_RUN", "default compilation mode",
         allowed=("FAST_RUN", "FAST_COMPILE", "DebugMode", "DEBUG_MODE", "Mode", "NanGuardMode",
                  "PYTHON")),
    Flag("linker", "cvm", "default linker of FAST_RUN: 'cvm', 'c' and 'c|py' run generated C "
         "(the Python backend where no C compiler is found), 'py' and 'vm' the Python backend",
         allowed=("cvm", "c|py", "py", "c", "c|py_nogc", "vm", "vm_nogc", "cvm_nogc")),
    Flag("allow_gc", True, "free intermediate results as soon as they are no longer needed",
         check=_bool, allowed_text="a boolean"),
    Flag("optimizer", "fast_run", "rewrite set used by the default mode",
         allowed=("fast_run", "fast_compile", "merge", "o1", "None", "None_")),
    Flag("optimizer_including", (), "extra rewrite tags or names to include", check=_tags,
         allowed_text="tags separated by ':'"),
    Flag("optimizer_excluding", (), "rewrite tags or names to exclude", check=_tags,
         allowed_text="tags separated by ':'"),
    Flag("optimizer_requiring", (), "rewrite tags or names that must run", check=_tags,
         allowed_text="tags separated by ':'"),
    Flag("compiledir", _default_compiledir(), "where compiled modules are cached", check=_path,
         allowed_text="a directory path"),
    Flag("exception_verbosity", "low", "how much graph context errors show",
         allowed=("low", "high")),
    Flag("on_unused_input", "raise", "default of function(on_unused_input=)",
         allowed=("raise", "warn", "ignore")),
    Flag("cast_policy", "numpy", "how dtypes combine: NumPy's promotion rules",
         allowed=("numpy", "custom")),
    Flag("compute_test_value", "off", "evaluate test values while building graphs",
         allowed=("off", "ignore", "warn", "raise")),
    Flag("print_global_stats", False, "print profiling totals at exit", check=_bool,
         allowed_text="a boolean"),
    Flag("profile", False, "profile every compiled function", check=_bool,
         allowed_text="a boolean"),
    Flag("openmp_elemwise_minsize", 200000, "size above which C loops use OpenMP",
         check=_positive_int, allowed_text="a non-negative integer"),
    Flag("cxx", "gcc", "the C compiler; empty disables the C backend", check=str,
         allowed_text="a compiler command"),
)


def _rc_path() -> str:
    return os.environ.get("WORKBENCHRC") or os.path.join(os.path.expanduser("~"), ".workbenchrc")


def _read_rc(path: str) -> dict[str, str]:
    if not os.path.exists(path):
        return {}
    parser = configparser.ConfigParser()
    parser.optionxform = str  # flag names are case-sensitive (floatX)
    try:
        parser.read(path)
    except configparser.Error as exc:
        raise ConfigError(f"cannot parse {path}: {exc}") from None
    return dict(parser["global"]) if parser.has_section("global") else {}


def _read_env(text: str) -> dict[str, str]:
    values: dict[str, str] = {}
    for item in text.split(","):
        item = item.strip()
        if not item:
            continue
        if "=" not in item:
            raise ConfigError(f"WORKBENCH_FLAGS item {item!r} is not of the form name=value")
        name, value = item.split("=", 1)
        values[name.strip()] = value.strip()
    return values


class Config:
    """The flag registry; attributes are flags.

    >>> from workbench.config import Config
    >>> c = Config(env="", rc_path="/nonexistent")
    >>> c.floatX
    'float64'
    """

    def __init__(self, env: str | None = None, rc_path: str | None = None):
        object.__setattr__(self, "_flags", {f.name: f for f in FLAGS})
        object.__setattr__(self, "_values", {})
        object.__setattr__(self, "_sources", {})
        for flag in FLAGS:
            self._values[flag.name] = flag.default
            self._sources[flag.name] = "default"
        rc_path = _rc_path() if rc_path is None else rc_path
        # As THEANORC: several files separated by os.pathsep, each later one overriding
        for path in rc_path.split(os.pathsep):
            if not path:
                continue
            path = os.path.expanduser(path)
            for name, value in _read_rc(path).items():
                self._set(name, value, f"from {path}")
        env = os.environ.get("WORKBENCH_FLAGS", "") if env is None else env
        for name, value in _read_env(env).items():
            self._set(name, value, "from WORKBENCH_FLAGS")

    def _set(self, name: str, value: Any, where: str) -> None:
        flag = self._flags.get(name)
        if flag is None:
            raise ConfigError(
                f"unknown config flag {name!r} ({where}); known flags: "
                f"{', '.join(sorted(self._flags))}")
        self._values[name] = flag.convert(value, where)
        self._sources[name] = where

    def __getattr__(self, name: str) -> Any:
        try:
            return self._values[name]
        except KeyError:
            raise AttributeError(f"unknown config flag {name!r}") from None

    def __setattr__(self, name: str, value: Any) -> None:
        self._set(name, value, "set in code")

    def __dir__(self) -> list[str]:
        return sorted(self._flags)

    def source(self, name: str) -> str:
        """Where the current value of flag ``name`` came from."""
        return self._sources[name]

    @contextlib.contextmanager
    def change_flags(self, **flags: Any) -> Iterator[None]:
        """Set flags for the duration of a ``with`` block.

        >>> import workbench
        >>> with workbench.config.change_flags(floatX='float32'):
        ...     workbench.tensor.scalar().dtype
        'float32'
        """
        saved = {name: (self._values.get(name), self._sources.get(name)) for name in flags}
        try:
            for name, value in flags.items():
                self._set(name, value, "set by change_flags")
            yield
        finally:
            for name, (value, source) in saved.items():
                if name in self._flags:
                    self._values[name] = value
                    self._sources[name] = source

    def __str__(self) -> str:
        lines = []
        for name in sorted(self._flags, key=str.lower):
            flag = self._flags[name]
            lines.append(f"{name} ({self._sources[name]})")
            lines.append(f"    Doc:   {flag.doc}")
            lines.append(f"    Value: {self._values[name]!r}")
            lines.append("")
        return "\n".join(lines)

    __repr__ = __str__


config = Config()
change_flags = config.change_flags
