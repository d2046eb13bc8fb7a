"""Tables as DataFrames: pandas by default, polars on request; both are optional extras, and
a missing one is an error that names the extra to install."""

from __future__ import annotations

from pathlib import Path
from typing import Any

BACKENDS = ("pandas", "polars")


class MissingExtra(ImportError):
    """A DataFrame library this call needs is not installed."""


def _pandas():
    try:
        import pandas
    except ImportError as e:
        raise MissingExtra(
            "this needs pandas: pip install 'simulacra[pandas]' (pandas and pyarrow)"
        ) from e
    return pandas


def _polars():
    try:
        import polars
    except ImportError as e:
        raise MissingExtra("this needs polars: pip install 'simulacra[polars]'") from e
    return polars


def check(backend: str) -> str:
    if backend not in BACKENDS:
        raise ValueError(f"backend must be one of {', '.join(BACKENDS)}, not {backend!r}")
    return backend


def read_csv(path: Path, backend: str = "pandas") -> Any:
    if check(backend) == "polars":
        return _polars().read_csv(path)
    return _pandas().read_csv(path)


def read_parquet(path: Path, backend: str = "pandas") -> Any:
    if check(backend) == "polars":
        return _polars().read_parquet(path)
    pd = _pandas()
    try:
        import pyarrow  # noqa: F401  (pandas reads Parquet through it)
    except ImportError as e:
        raise MissingExtra(
            "reading agents.parquet needs pyarrow: pip install 'simulacra[pandas]'"
        ) from e
    return pd.read_parquet(path)


def read_jsonl(path: Path, backend: str = "pandas") -> Any:
    if check(backend) == "polars":
        # Events of different kinds have different fields: polars needs to see them all.
        return _polars().read_ndjson(path, infer_schema_length=None)
    return _pandas().read_json(path, lines=True)


def empty(backend: str = "pandas") -> Any:
    if check(backend) == "polars":
        return _polars().DataFrame()
    return _pandas().DataFrame()
