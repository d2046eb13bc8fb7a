"""`simulacra.sweep` and the `Sweep` object: a sweep's folder and its tables (runs.csv,
aggregate.csv, every run's steps.csv) read as DataFrames, with one column per grid axis taken
apart from the binary's configuration labels, and each run loadable as a `Run`."""

from __future__ import annotations

import json
import numbers
import os
import re
import tempfile
from pathlib import Path
from typing import Any, Iterable, Mapping

from . import _frames, _toml
from ._binary import SimulacraError, call
from ._run import PathLike, Run, Scenario, _free, _keep_scenario, _scenario_path, _seeds

# A configuration label is "key=value key=value" (src/sweep/mod.rs, `label`), "base" without
# a grid; a new axis starts at a space followed by a dotted key and "=".
_NEXT_AXIS = re.compile(r" (?=[A-Za-z0-9_-]+(?:\.[A-Za-z0-9_-]+)*=)")


class Sweep:
    """A sweep's folder: its tables read on demand (always the files as they are now).

    For code written when `sweep()` returned runs.csv as a DataFrame, `len()`, `[...]`,
    iteration and any attribute a `Sweep` does not have are those of `.runs`."""

    def __init__(self, dir: PathLike, backend: str = "pandas"):
        self.dir = Path(dir).resolve()
        self.backend = _frames.check(backend)
        if not (self.dir / "runs.csv").is_file():
            raise SimulacraError(
                f"{self.dir} is not a finished sweep: it has no runs.csv (a sharded sweep "
                "writes it at `simulacra sweep merge`)"
            )

    def __repr__(self) -> str:
        return f"simulacra.Sweep({str(self.dir)!r})"

    def __fspath__(self) -> str:
        return str(self.dir)

    # --- the tables -----------------------------------------------------------------------
    @property
    def axes(self) -> list[str]:
        """The grid's keys, in the order of the configuration labels (empty without a grid)."""
        labels = self._labels()
        return list(_axis_values(labels[0])) if labels else []

    @property
    def runs(self) -> Any:
        """runs.csv, one row per run, with `dir` made absolute and one column per grid axis
        (named by its key, e.g. `planner.policy`) after `configuration`."""
        runs = _frames.read_csv(self.dir / "runs.csv", self.backend)
        runs = self._with_axes(runs)
        dirs = [str(self.dir / d) for d in _column(runs, "dir")]
        runs = _replace(runs, "dir", dirs, self.backend)
        if self.backend == "pandas":
            # Where `sweep()` used to put it.
            runs.attrs["aggregate"] = self.aggregate
        return runs

    @property
    def aggregate(self) -> Any:
        """aggregate.csv, one row per configuration (mean and std over seeds), with one column
        per grid axis after `configuration`."""
        return self._with_axes(_frames.read_csv(self.dir / "aggregate.csv", self.backend))

    def steps(self, backend: str | None = None) -> Any:
        """Every run's steps.csv in one long table: `configuration`, `seed` and the grid axes
        first (the key of each run), then the steps' columns."""
        backend = _frames.check(backend or self.backend)
        runs = _frames.read_csv(self.dir / "runs.csv", backend)
        axes = _axes_by_label(_column(runs, "configuration"))
        frames = []
        for config, seed, d in zip(
            _column(runs, "configuration"), _column(runs, "seed"), _column(runs, "dir")
        ):
            path = self.dir / d / "steps.csv"
            if not path.is_file():
                raise SimulacraError(f"{path} does not exist: that run of the sweep did not finish")
            frame = _frames.read_csv(path, backend)
            keys = {"configuration": config, "seed": seed, **axes[config]}
            frames.append(_prepend(frame, keys, backend))
        if not frames:
            return _frames.empty(backend)
        return _frames.concat(frames, backend)

    def run(self, row: Any) -> Run:
        """One run of the sweep as a `Run`: `row` is a position in `.runs` (0, 1, ...) or a
        row of it (a pandas Series, a dict, polars' `row(i, named=True)`): its `dir` is used."""
        if isinstance(row, numbers.Integral) and not isinstance(row, bool):
            dirs = _column(_frames.read_csv(self.dir / "runs.csv", self.backend), "dir")
            if not -len(dirs) <= row < len(dirs):
                raise SimulacraError(f"run({row}): the sweep has {len(dirs)} runs")
            return Run(self.dir / dirs[int(row)], self.backend)
        try:
            d = row["dir"]
        except (KeyError, TypeError, IndexError):
            raise SimulacraError(
                f"run(): a position in .runs or a row of it (with a `dir`), not {type(row).__name__}"
            ) from None
        return Run(self.dir / d, self.backend)  # an absolute `dir` stays as it is

    # --- the old return value -------------------------------------------------------------
    def __len__(self) -> int:
        return len(self.runs)

    def __getitem__(self, key: Any) -> Any:
        return self.runs[key]

    def __iter__(self):
        return iter(self.runs)

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_") or name in ("dir", "backend"):
            raise AttributeError(name)
        return getattr(self.runs, name)

    # --- helpers --------------------------------------------------------------------------
    def _labels(self) -> list[str]:
        plan = self.dir / "plan.json"
        if plan.is_file():
            return list(json.loads(plan.read_text()).get("configurations", []))
        runs = _frames.read_csv(self.dir / "runs.csv", self.backend)
        return list(dict.fromkeys(_column(runs, "configuration")))

    def _with_axes(self, frame: Any) -> Any:
        labels = list(_column(frame, "configuration"))
        axes = _axes_by_label(labels)
        keys = list(dict.fromkeys(k for label in labels for k in axes[label]))
        columns = {k: [axes[label].get(k) for label in labels] for k in keys}
        return _insert_after(frame, "configuration", columns, self.backend)


def sweep(
    scenario: Scenario = None,
    seeds: str | int | Iterable[int] = "1..10",
    set: Mapping[str, Any] | None = None,
    grid: Mapping[str, Iterable[Any]] | None = None,
    out: PathLike | None = None,
    jobs: int = 0,
    force: bool = False,
    progress: bool = True,
    backend: str = "pandas",
) -> Sweep:
    """`simulacra sweep`: every seed x every grid combination, in parallel; returns a `Sweep`.
    `seeds` is the CLI's string ("1..10", "1,4,9"), an int N (seeds 1..N), a range or a list;
    `out` defaults to a new folder under sweeps/; `force=True` replaces an earlier sweep of
    another plan in `out` (`--force`)."""
    _frames.check(backend)
    args = ["sweep"]
    with tempfile.TemporaryDirectory(prefix="simulacra-") as tmp:
        path = _scenario_path(scenario, Path(tmp))
        if path:
            args.append(path)
        args += [f"--seeds={_seeds(seeds)}", *_toml.set_args(set)]
        for key, values in (grid or {}).items():
            _toml.check_key(key, "grid")
            values = list(values) if not isinstance(values, (str, bytes)) else [values]
            if not values:
                raise SimulacraError(f"grid[{key!r}]: no values")
            args.append(f"--grid={key}=[{','.join(_toml.grid_literal(v, key) for v in values)}]")
        if isinstance(jobs, bool) or not isinstance(jobs, numbers.Integral) or jobs < 0:
            raise SimulacraError(f"jobs: runs at once (0 = one per core), not {jobs!r}")
        if out is None:
            out = _free(Path("sweeps"), "sweep")
        args += [f"--out={os.fspath(out)}", f"--jobs={int(jobs)}"]
        if force:
            args.append("--force")
        if not progress:
            args.append("--quiet")
        call(args, progress=progress)
        _keep_scenario(scenario, path, Path(out))
    return Sweep(out, backend)


# --- configuration labels into typed columns --------------------------------------------
def _axes_by_label(labels: Iterable[str]) -> dict[str, dict[str, Any]]:
    """Each label's axis values, typed alike across labels (one kind per axis)."""
    labels = list(dict.fromkeys(labels))
    parsed = [_axis_values(label) for label in labels]
    keys = list(dict.fromkeys(k for p in parsed for k in p))
    typed = {k: _typed([p.get(k) for p in parsed]) for k in keys}
    return {
        label: {k: typed[k][i] for k in keys if k in parsed[i]} for i, label in enumerate(labels)
    }


def _axis_values(label: str) -> dict[str, Any]:
    """"planner.policy=saez workers.policy=rational" -> {"planner.policy": "saez", ...};
    "base" (no grid) -> {}."""
    if label == "base" or "=" not in label:
        return {}
    out: dict[str, Any] = {}
    for piece in _NEXT_AXIS.split(label):
        key, _, raw = piece.partition("=")
        out[key] = _value(raw)
    return out


def _value(raw: str) -> Any:
    """A grid value as the binary read it: a TOML scalar when it is one (0.5, true, "a b"),
    else the bare word; arrays and tables stay as their text (hashable, groupable)."""
    try:
        import tomllib

        value = tomllib.loads(f"v = {raw}")["v"]
    except ImportError:  # Python < 3.11: JSON reads the same numbers, booleans and strings
        try:
            value = json.loads(raw)
        except ValueError:
            return raw
    except Exception:
        return raw
    if isinstance(value, (list, dict)) or not isinstance(value, (bool, int, float, str)):
        return raw
    return value


def _typed(values: list[Any]) -> list[Any]:
    """One kind per column: ints, floats (ints among floats become floats), bools or strings
    (a column mixing kinds holds every value as text)."""
    kinds = {type(v) for v in values if v is not None}
    if kinds <= {int} or kinds <= {bool} or kinds <= {str}:
        return values
    if kinds <= {int, float}:
        return [None if v is None else float(v) for v in values]
    return [None if v is None else _toml_text(v) for v in values]


def _toml_text(v: Any) -> str:
    return v if isinstance(v, str) else _toml.literal(v)


# --- the same few operations on pandas and polars frames ----------------------------------
def _column(frame: Any, name: str) -> list[Any]:
    return frame[name].to_list()


def _replace(frame: Any, name: str, values: list[Any], backend: str) -> Any:
    if backend == "polars":
        import polars as pl

        return frame.with_columns(pl.Series(name, values))
    frame[name] = values
    return frame


def _insert_after(frame: Any, after: str, columns: Mapping[str, list[Any]], backend: str) -> Any:
    at = list(frame.columns).index(after) + 1
    if backend == "polars":
        import polars as pl

        new = [pl.Series(k, v, strict=False) for k, v in columns.items()]
        names = list(frame.columns)
        out = frame.with_columns(new)
        return out.select([*names[:at], *columns, *[n for n in names[at:] if n not in columns]])
    for i, (k, v) in enumerate(columns.items()):
        if k in frame.columns:
            continue
        frame.insert(at + i, k, v)
    return frame


def _prepend(frame: Any, keys: Mapping[str, Any], backend: str) -> Any:
    if backend == "polars":
        import polars as pl

        n = frame.height
        head = [pl.Series(k, [v] * n, strict=False) for k, v in keys.items()]
        return frame.with_columns(head).select([*keys, *[c for c in frame.columns if c not in keys]])
    for i, (k, v) in enumerate(keys.items()):
        frame.insert(i, k, [v] * len(frame))
    return frame
