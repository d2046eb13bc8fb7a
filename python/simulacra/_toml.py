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

_BARE_KEY = re.compile(r"^[A-Za-z0-9_-]+$")
# A grid value that the CLI can take bare and that TOML would not read as another type.
_BARE_WORD = re.compile(r"^[A-Za-z_][A-Za-z0-9_.-]*$")


def literal(value: Any, key: str = "value") -> str:
    """One Python value as a TOML literal: strings quoted, bools lowercase, lists as arrays."""
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
            + ", ".join(f"{_key(k)} = {literal(v, f'{key}.{k}')}" for k, v in value.items())
            + "}"
        )
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(literal(v, key) for v in value) + "]"
    if hasattr(value, "tolist"):  # numpy scalars and arrays
        return literal(value.tolist(), key)
    raise TypeError(
        f"{key}: cannot turn a {type(value).__name__} into a TOML value "
        "(use an int, float, str, bool, or a list or dict of them)"
    )


def grid_literal(value: Any, key: str) -> str:
    """A grid value: bare when the CLI reads it back as the same string (folder names stay
    `planner.policy=saez`), else the TOML literal."""
    if (
        isinstance(value, str)
        and _BARE_WORD.match(value)
        and value not in ("true", "false", "inf", "nan")
    ):
        return value
    return literal(value, key)


def set_args(overrides: Mapping[str, Any] | None) -> list[str]:
    """`{"simulation.num_agents": 50}` -> `["--set", "simulation.num_agents=50"]`."""
    args: list[str] = []
    for key, value in (overrides or {}).items():
        if not isinstance(key, str) or not key:
            raise TypeError(f"set: keys are dotted strings like 'simulation.seed', not {key!r}")
        args += ["--set", f"{key}={literal(value, key)}"]
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
        lines.append(f"{_key(k)} = {literal(v, dotted)}")
    for k, v in tables:
        _table(v, [*path, str(k)], lines)
