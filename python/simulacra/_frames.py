"""Tables as DataFrames: pandas by default, polars on request; both are optional extras, and
a missing one is an error that names the extra to install."""

from __future__ import annotations

import numbers
from pathlib import Path
from typing import Any, Iterable, Mapping, Union

from ._binary import SimulacraError

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


# Column kinds a table always has, whatever its rows hold (a column that happens to hold only
# whole numbers, or no value at all, keeps its kind, so tables of different runs concatenate).
# "int?" is an integer column that may be empty (pandas' nullable Int64).
Schema = Mapping[str, str]

# elections.csv, as src/run/tables.rs (write_elections_csv) writes its header; liquid
# elections add largest_weight, weight_gini, delegated, lost.
ELECTIONS: Schema = {
    "tax_year": "int",
    "step": "int",
    "rule": "str",
    "winner": "int",
    "winner_income_decile": "int?",
    "margin": "float",
    "turnout": "float",
    "candidates": "int",
    "ballots": "int",
    "exhausted": "int",
    "tie_broken": "bool",
    "welfare": "float",
}

# regions.csv's fixed columns (src/run/regions_table.rs); its rate_0.. and figures are floats.
REGIONS: Schema = {
    "step": "int",
    "tax_year": "int",
    "region": "int",
    "population": "int",
    "moves_in": "int",
    "moves_out": "int",
}

# Integer fields of the binary's events (src/frames.rs and the structs it logs): read from
# JSON Lines, pandas makes a field that some events lack a float column; these become Int64.
EVENT_INTEGERS = frozenset(
    """agent at_step attempt candidates decisions deciders delegated endpoint exhausted
    failures fallbacks id leader lost population region requests retries rounds seed step
    tax_year voter winner""".split()
)


def _pandas_dtype(kind: str) -> str:
    return {"int": "int64", "int?": "Int64", "float": "float64", "bool": "bool", "str": "str"}[kind]


def _polars_dtype(kind: str) -> Any:
    pl = _polars()
    return {
        "int": pl.Int64,
        "int?": pl.Int64,
        "float": pl.Float64,
        "bool": pl.Boolean,
        "str": pl.String,
    }[kind]


def read_csv(path: Path, backend: str = "pandas", schema: Schema | None = None) -> Any:
    if check(backend) == "polars":
        overrides = {k: _polars_dtype(v) for k, v in (schema or {}).items()}
        return _polars().read_csv(path, schema_overrides=overrides or None)
    pd = _pandas()
    # bool columns are left to the parser (it reads true/false); the rest are fixed.
    dtypes = {k: _pandas_dtype(v) for k, v in (schema or {}).items() if v != "bool"}
    return pd.read_csv(path, dtype=dtypes or None)


def empty(backend: str = "pandas", schema: Schema | None = None) -> Any:
    """A table without rows, with the columns (and kinds) the file would have."""
    schema = schema or {}
    if check(backend) == "polars":
        pl = _polars()
        return pl.DataFrame(schema={k: _polars_dtype(v) for k, v in schema.items()})
    pd = _pandas()
    return pd.DataFrame({k: pd.Series([], dtype=_pandas_dtype(v)) for k, v in schema.items()})


def read_jsonl(path: Path, backend: str = "pandas") -> Any:
    if check(backend) == "polars":
        # Events of different kinds have different fields: polars needs to see them all.
        return _polars().read_ndjson(path, infer_schema_length=None)
    pd = _pandas()
    frame = pd.read_json(path, lines=True)
    for name in frame.columns:
        column = frame[name]
        if name in EVENT_INTEGERS and column.dtype == "float64":
            present = column.dropna()
            if (present == present.round()).all():
                frame[name] = column.astype("Int64")
    return frame


# --- agents.parquet, read lazily ----------------------------------------------------------
Selection = Union[None, int, range, Iterable[int]]


def _bounds(selection: Selection, name: str) -> tuple[str, Any]:
    """("range", (lo, hi)) for an int or a contiguous range, ("in", [ints]) otherwise."""
    bad = f"{name}: an int, a range or a list of ints, not {{!r}}"
    if isinstance(selection, (bool, str, bytes, float)):
        raise SimulacraError(bad.format(selection))
    if isinstance(selection, int):
        return "range", (selection, selection + 1)
    if isinstance(selection, range) and selection.step == 1:
        return "range", (selection.start, selection.stop)
    if isinstance(selection, slice):
        if selection.step not in (None, 1):
            raise SimulacraError(f"{name}: a slice with a step; pass a range or a list")
        lo = 0 if selection.start is None else int(selection.start)
        hi = 2**62 if selection.stop is None else int(selection.stop)
        return "range", (lo, hi)
    values = []
    try:
        items = list(selection)
    except TypeError:
        raise SimulacraError(bad.format(selection)) from None
    for v in items:
        if isinstance(v, bool) or not isinstance(v, numbers.Integral):
            raise SimulacraError(bad.format(v))
        values.append(int(v))
    return "in", sorted(set(values))


def read_parquet(
    path: Path,
    backend: str = "pandas",
    columns: list[str] | None = None,
    filters: Mapping[str, tuple[str, Selection]] | None = None,
) -> Any:
    """A Parquet file, only `columns` and the rows whose `filters` columns are in the given
    values (`{column: (argument name, selection)}`): the filters and the column choice go
    down to the Parquet reader (row groups outside the bounds are skipped), so a subset
    never loads the whole table."""
    filters = {
        k: _bounds(v, name) for k, (name, v) in (filters or {}).items() if v is not None
    }
    if columns is not None:
        for c in columns:
            if not isinstance(c, str):
                raise SimulacraError(f"columns: column names (str), not {c!r}")
        known = _parquet_columns(path)
        missing = [c for c in columns if c not in known]
        if missing:
            raise SimulacraError(
                f"columns: {path.name} has no column {', '.join(map(repr, missing))} "
                f"(it has {', '.join(known)})"
            )
    if check(backend) == "polars":
        pl = _polars()
        frame = pl.scan_parquet(path)
        for name, (how, arg) in filters.items():
            col = pl.col(name)
            frame = frame.filter(
                (col >= arg[0]) & (col < arg[1]) if how == "range" else col.is_in(arg)
            )
        if columns is not None:
            frame = frame.select(columns)
        return frame.collect()
    _pandas()
    try:
        import pyarrow as pa
        import pyarrow.dataset as ds
    except ImportError as e:
        raise MissingExtra(
            "reading agents.parquet needs pyarrow: pip install 'simulacra[pandas]'"
        ) from e
    expr = None
    for name, (how, arg) in filters.items():
        field = ds.field(name)
        part = (field >= arg[0]) & (field < arg[1]) if how == "range" else field.isin(arg)
        expr = part if expr is None else expr & part
    # One row group at a time, each filtered as it is read: a worker filter must read every
    # row group (they follow steps), and reading them one by one keeps only one decoded group
    # beside the rows kept (a whole-file scan held several: 354 MB against 230 MB for 100
    # workers of 100,000 x 200). Row groups whose statistics exclude the filter are skipped.
    dataset = ds.dataset(path, format="parquet")
    parts = [
        group.to_table(columns=columns, filter=expr)
        for fragment in dataset.get_fragments(filter=expr)
        for group in fragment.split_by_row_group(filter=expr)
    ]
    if parts:
        table = pa.concat_tables(parts)
        del parts
    else:  # nothing matches: an empty table that keeps the file's column types
        table = dataset.scanner(columns=columns, filter=expr).to_table()
    return table.to_pandas(self_destruct=True, split_blocks=True)


def _parquet_columns(path: Path) -> list[str]:
    """The file's column names, from its footer (no rows read)."""
    try:
        import pyarrow.parquet as pq

        return list(pq.read_schema(path).names)
    except ImportError:
        return list(_polars().scan_parquet(path).collect_schema().names())


def concat(frames: list[Any], backend: str = "pandas") -> Any:
    """Tables of several runs, one under the other; a column one lacks is empty there."""
    if check(backend) == "polars":
        return _polars().concat(frames, how="diagonal_relaxed")
    return _pandas().concat(frames, ignore_index=True)
