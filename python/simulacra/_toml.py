"""Python values to TOML: the `--set key=value` overrides and scenario files the binary reads.

The standard library reads TOML (tomllib) but does not write it, and the subset needed here
(scalars, arrays, inline and nested tables) is small, so it is written by hand rather than
adding a dependency to every install.
"""

from __future__ import annotations

import json
import math
import numbers
import os
import re
from typing import Any, Mapping

from ._binary import SimulacraError

_BARE_KEY = re.compile(r"^[A-Za-z0-9_-]+$")
# A grid value that the CLI can take bare and that TOML would not read as another type.
_BARE_WORD = re.compile(r"^[A-Za-z_][A-Za-z0-9_.-]*$")
# A scenario key as `--set` takes it: bare TOML keys joined by dots (`simulation.num_agents`).
_DOTTED_KEY = re.compile(r"^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*$")
_KINDS = "an int, float, str or bool, or a list or dict of them"


def literal(value: Any, key: str = "value", what: str = "set") -> str:
    """One Python value as a TOML literal: strings quoted, bools lowercase, lists as arrays.
    Anything else (None included: TOML has no null) is a SimulacraError naming `key`."""
    if value is None:
        raise SimulacraError(
            f"{what}[{key!r}]: None is not a value; omit the key to keep the default"
        )
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, numbers.Integral):
        return str(int(value))
    if isinstance(value, numbers.Real):
        x = float(value)
        if math.isnan(x):
            return "nan"
        if math.isinf(x):
            return "inf" if x > 0 else "-inf"
        return repr(x)
    if isinstance(value, (str, os.PathLike)):
        # JSON's escapes (\" \\ \n \t \uXXXX) are all valid in a TOML basic string.
        return json.dumps(os.fspath(value), ensure_ascii=False)
    if isinstance(value, Mapping):
        return (
            "{"
            + ", ".join(
                f"{_key(k)} = {literal(v, f'{key}.{k}', what)}" for k, v in value.items()
            )
            + "}"
        )
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(literal(v, key, what) for v in value) + "]"
    if hasattr(value, "tolist"):  # numpy scalars and arrays
        return literal(value.tolist(), key, what)
    raise SimulacraError(
        f"{what}[{key!r}]: {_show(value)} ({type(value).__name__}) is not a scenario value: "
        f"use {_KINDS}"
    )


def _show(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def check_key(key: Any, what: str = "set") -> str:
    """A `set` or `grid` key: a dotted string like 'simulation.num_agents'."""
    if not isinstance(key, str) or not _DOTTED_KEY.match(key):
        raise SimulacraError(
            f"{what}: keys are dotted names like 'simulation.num_agents', not {_show(key)}"
        )
    return key


def grid_literal(value: Any, key: str) -> str:
    """A grid value: bare when the CLI reads it back as the same string (folder names stay
    `planner.policy=saez`), else the TOML literal."""
    if (
        isinstance(value, str)
        and _BARE_WORD.match(value)
        and value not in ("true", "false", "inf", "nan")
    ):
        return value
    return literal(value, key, "grid")


def set_args(overrides: Mapping[str, Any] | None) -> list[str]:
    """`{"simulation.num_agents": 50}` -> `["--set", "simulation.num_agents=50"]`."""
    args: list[str] = []
    if overrides is not None and not isinstance(overrides, Mapping):
        raise SimulacraError(
            f"set: a dict of overrides like {{'simulation.num_agents': 50}}, not {_show(overrides)}"
        )
    for key, value in (overrides or {}).items():
        args += ["--set", f"{check_key(key)}={literal(value, key)}"]
    return args


def _key(k: Any) -> str:
    k = str(k)
    return k if _BARE_KEY.match(k) else json.dumps(k)


def dumps(doc: Mapping[str, Any]) -> str:
    """A scenario dict as a TOML document: top-level values first, then one table per dict."""
    lines: list[str] = []
    _table(doc, [], lines)
    return "\n".join(lines).lstrip("\n") + "\n"


def _table(doc: Mapping[str, Any], path: list[str], lines: list[str]) -> None:
    tables = [(k, v) for k, v in doc.items() if isinstance(v, Mapping)]
    scalars = [(k, v) for k, v in doc.items() if not isinstance(v, Mapping)]
    if path and (scalars or not tables):
        lines.append("")
        lines.append("[" + ".".join(_key(p) for p in path) + "]")
    for k, v in scalars:
        dotted = ".".join([*path, str(k)])
        lines.append(f"{_key(k)} = {literal(v, dotted, 'scenario')}")
    for k, v in tables:
        _table(v, [*path, str(k)], lines)
