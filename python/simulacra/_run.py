"""`simulacra.run`, `load`, `sweep` and the `Run` object: each method is one CLI command on
the run's folder, and each table is a file the run (or `export`) wrote, read as a DataFrame.
Nothing of the economics is computed here."""

from __future__ import annotations

import json
import os
import re
import shutil
import tempfile
from pathlib import Path
from typing import Any, Iterable, Mapping, Union

from . import _frames, _toml
from ._binary import SimulacraError, call

PathLike = Union[str, "os.PathLike[str]"]
Scenario = Union[None, PathLike, Mapping[str, Any]]

# The last lines `simulacra run` prints (src/main.rs): "... outputs in runs/default-s42-1".
_OUTPUTS_IN = re.compile(r"outputs in (.+)$", re.MULTILINE)


class Run:
    """A run's folder: what the run wrote, read on demand (always the files as they are now)."""

    def __init__(self, dir: PathLike, backend: str = "pandas"):
        self.dir = Path(dir).resolve()
        self.backend = _frames.check(backend)
        if not (self.dir / "run.log").is_file():
            raise SimulacraError(f"{self.dir} is not a run folder: it has no run.log")

    def __repr__(self) -> str:
        return f"simulacra.Run({str(self.dir)!r})"

    def __fspath__(self) -> str:
        return str(self.dir)

    # --- what the run wrote -------------------------------------------------------------
    @property
    def summary(self) -> dict:
        """summary.json as a dict."""
        path = self.dir / "summary.json"
        if not path.is_file():
            raise SimulacraError(
                f"{path} does not exist: the run did not finish (continue it with run.resume())"
            )
        return json.loads(path.read_text())

    @property
    def steps(self) -> Any:
        """steps.csv: one row per timestep."""
        return _frames.read_csv(self._file("steps.csv"), self.backend)

    @property
    def elections(self) -> Any:
        """elections.csv: one row per election; empty for runs without elections (the file is
        written only when `governance.mode = "election"` held one)."""
        path = self.dir / "elections.csv"
        if not path.is_file():
            return _frames.empty(self.backend)
        return _frames.read_csv(path, self.backend)

    def agents(self, backend: str | None = None) -> Any:
        """One row per worker per step (`export --agents parquet`, run once and kept)."""
        path = self._export("agents.parquet", ["--agents", "parquet"])
        return _frames.read_parquet(path, backend or self.backend)

    def events(self, backend: str | None = None) -> Any:
        """events.jsonl (`export --events jsonl`, run once and kept): one row per event."""
        path = self._export("events.jsonl", ["--events", "jsonl"])
        return _frames.read_jsonl(path, backend or self.backend)

    # --- commands on the folder ---------------------------------------------------------
    def round(self, k: int) -> dict:
        """Tax year `k` in full: `simulacra inspect DIR --round k --json`."""
        return json.loads(call(["inspect", self.dir, "--round", int(k), "--json"]))

    def verify(self) -> bool:
        """`simulacra replay DIR --verify`: True when the re-executed log is identical; raises
        SimulacraError with the first difference otherwise."""
        try:
            call(["replay", self.dir, "--verify"])
        except SimulacraError as e:
            detail = e.stdout.strip() or e.message
            raise SimulacraError(detail, e.returncode, e.cmd) from None
        return True

    def fork(
        self,
        at: int,
        set: Mapping[str, Any] | None = None,
        out: PathLike | None = None,
        progress: bool = True,
    ) -> "Run":
        """A counterfactual: this run until step `at`, then the `set` overrides
        (`simulacra fork DIR --at K --set ... --out OUT`). `out` defaults to a new sibling
        folder `<dir>-fork<at>-<n>`."""
        if out is None:
            out = _free(self.dir.parent, f"{self.dir.name}-fork{int(at)}")
        args = ["fork", self.dir, "--at", int(at), *_toml.set_args(set), "--out", out]
        call(args, progress=progress)
        return Run(out, self.backend)

    def resume(self, progress: bool = True) -> "Run":
        """Continues a run that stopped (Ctrl-C, a crash): `simulacra resume DIR`."""
        call(["resume", self.dir], progress=progress)
        return self

    def report(self) -> Path:
        """`simulacra report DIR`: plots and an HTML page; returns report/report.html."""
        call(["report", self.dir])
        return self.dir / "report" / "report.html"

    # --- helpers ------------------------------------------------------------------------
    def _file(self, name: str) -> Path:
        path = self.dir / name
        if not path.is_file():
            raise SimulacraError(
                f"{path} does not exist: the run did not finish (continue it with run.resume())"
            )
        return path

    def _export(self, name: str, flags: list[str]) -> Path:
        path = self.dir / name
        log = self.dir / "run.log"
        # Exported once; again only when the log changed since (a resumed run).
        if not path.is_file() or path.stat().st_mtime < log.stat().st_mtime:
            call(["export", self.dir, *flags])
        return path


def load(dir: PathLike, backend: str = "pandas") -> Run:
    """A `Run` for an existing run folder."""
    return Run(dir, backend)


def run(
    scenario: Scenario = None,
    set: Mapping[str, Any] | None = None,
    out: PathLike | None = None,
    progress: bool = True,
    backend: str = "pandas",
) -> Run:
    """Runs a scenario (`simulacra run`): `scenario` is None (the embedded default), a TOML
    file, or a dict written to `scenario.toml` in the run's folder; `set` holds overrides
    (`{"simulation.num_agents": 50}`); `out` the folder (default: a new one under runs/)."""
    _frames.check(backend)
    overrides = _toml.set_args(set)
    with tempfile.TemporaryDirectory(prefix="simulacra-") as tmp:
        path = _scenario_path(scenario, out, Path(tmp))
        args = ["run", *([path] if path else []), *overrides]
        if out is not None:
            args += ["--out", out]
        if not progress:
            args.append("--quiet")
        stdout = call(args, progress=progress)
        if out is None:
            m = _OUTPUTS_IN.search(stdout)
            if not m:
                raise SimulacraError(
                    f"cannot find the run's folder in the output of simulacra run:\n{stdout}"
                )
            out = m.group(1).strip()
            if isinstance(scenario, Mapping):
                shutil.copyfile(path, Path(out) / "scenario.toml")
    return Run(out, backend)


def sweep(
    scenario: Scenario = None,
    seeds: str | int | Iterable[int] = "1..10",
    set: Mapping[str, Any] | None = None,
    grid: Mapping[str, Iterable[Any]] | None = None,
    out: PathLike | None = None,
    jobs: int = 0,
    progress: bool = True,
    backend: str = "pandas",
) -> Any:
    """`simulacra sweep`: every seed x every grid combination, in parallel. Returns runs.csv
    (one row per run); with pandas, aggregate.csv is in `.attrs["aggregate"]` (with polars,
    read `out/aggregate.csv`). `out` defaults to a new folder under sweeps/."""
    _frames.check(backend)
    if out is None:
        out = _free(Path("sweeps"), "sweep")
    args = ["sweep"]
    with tempfile.TemporaryDirectory(prefix="simulacra-") as tmp:
        path = _scenario_path(scenario, out, Path(tmp))
        if path:
            args.append(path)
        args += ["--seeds", _seeds(seeds), *_toml.set_args(set)]
        for key, values in (grid or {}).items():
            values = list(values) if not isinstance(values, (str, bytes)) else [values]
            if not values:
                raise ValueError(f"grid {key!r}: no values")
            args += ["--grid", f"{key}=[{','.join(_toml.grid_literal(v, key) for v in values)}]"]
        args += ["--out", out, "--jobs", int(jobs)]
        if not progress:
            args.append("--quiet")
        call(args, progress=progress)
    out = Path(out)
    runs = _frames.read_csv(out / "runs.csv", backend)
    if backend == "pandas":
        runs.attrs["aggregate"] = _frames.read_csv(out / "aggregate.csv", backend)
    return runs


def _scenario_path(scenario: Scenario, out: PathLike | None, tmp: Path) -> str | None:
    """The scenario file to pass: a dict is written as TOML into `out` (or a temporary folder
    when the CLI picks the folder; `run` copies it in afterwards)."""
    if scenario is None:
        return None
    if isinstance(scenario, Mapping):
        folder = Path(out) if out is not None else tmp
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / "scenario.toml"
        path.write_text(_toml.dumps(scenario))
        return str(path)
    path = Path(scenario)
    if not path.is_file():
        raise SimulacraError(f"scenario file {path} does not exist")
    return str(path)


def _seeds(seeds: str | int | Iterable[int]) -> str:
    if isinstance(seeds, str):
        return seeds
    if isinstance(seeds, int):
        return str(seeds)
    if isinstance(seeds, range) and seeds.step == 1 and len(seeds) > 0:
        return f"{seeds.start}..{seeds.stop - 1}"
    seeds = [int(s) for s in seeds]
    if not seeds:
        raise ValueError("seeds: at least one seed")
    return ",".join(map(str, seeds))


def _free(parent: Path, stem: str) -> Path:
    n = 1
    while (parent / f"{stem}-{n}").exists():
        n += 1
    return parent / f"{stem}-{n}"
