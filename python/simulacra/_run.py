"""`simulacra.run`, `load`, `sweep` and the `Run` object: each method is one CLI command on
the run's folder, and each table is a file the run (or `export`) wrote, read as a DataFrame.
Nothing of the economics is computed here."""

from __future__ import annotations

import json
import numbers
import os
import re
import shutil
import tempfile
from pathlib import Path
from typing import Any, Iterable, Mapping, Union

from . import _frames, _toml, _view
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
        """elections.csv: one row per election. A run without elections writes no file: then
        an empty table with elections.csv's columns (so tables of several runs concatenate).
        A federation's table has a `region` column (text: a region's number, or "federal")."""
        path = self.dir / "elections.csv"
        if not path.is_file():
            return _frames.empty(self.backend, _frames.ELECTIONS)
        with path.open() as f:
            placed = "region" in f.readline().strip().split(",")
        schema = {**_frames.ELECTIONS, "region": "str"} if placed else _frames.ELECTIONS
        return _frames.read_csv(path, self.backend, schema)

    @property
    def regions(self) -> Any:
        """regions.csv (a federation run): one row per region per step, with its population,
        rates, revenue, rebate, transfer, welfare, hours, Gini, income and moves in and out.
        A federation run writes it; for a log from before that, `export --regions csv` writes
        it on first use. A run that is not a federation raises SimulacraError."""
        path = self.dir / "regions.csv"
        if not path.is_file():
            call(["export", self.dir, "--regions", "csv"])
        return _frames.read_csv(path, self.backend, _frames.REGIONS)

    def agents(
        self,
        columns: Iterable[str] | None = None,
        steps: _frames.Selection = None,
        workers: _frames.Selection = None,
        backend: str | None = None,
    ) -> Any:
        """One row per worker per step, from `agents.parquet` in the run's folder (written by
        `export --agents parquet` on first use, and again only when run.log is newer).
        `columns` (names), `steps` and `workers` (an int, a range or a list of ints; workers
        are the `agent` column) choose a part: only that part is read from the file."""
        path = self._export("agents.parquet", ["--agents", "parquet"])
        if isinstance(columns, str):
            columns = [columns]
        return _frames.read_parquet(
            path,
            backend or self.backend,
            columns=None if columns is None else list(columns),
            filters={"step": ("steps", steps), "agent": ("workers", workers)},
        )

    def events(self, backend: str | None = None) -> Any:
        """events.jsonl (`export --events jsonl`, run once and kept): one row per event."""
        path = self._export("events.jsonl", ["--events", "jsonl"])
        return _frames.read_jsonl(path, backend or self.backend)

    # --- commands on the folder ---------------------------------------------------------
    def round(self, k: int) -> dict:
        """Tax year `k` (0, 1, ...) in full: `simulacra inspect DIR --round k --json`."""
        if isinstance(k, bool) or not isinstance(k, numbers.Integral) or k < 0:
            raise SimulacraError(f"round: k is a tax year (an int, 0 or more), not {k!r}")
        return json.loads(call(["inspect", self.dir, f"--round={int(k)}", "--json"]))

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
        force: bool = False,
        progress: bool = True,
    ) -> "Run":
        """A counterfactual: this run until step `at`, then the `set` overrides
        (`simulacra fork DIR --at K --set ... --out OUT`). `out` defaults to a new sibling
        folder `<dir>-fork<at>-<n>`; `force=True` replaces a run already in `out` (`--force`)."""
        if isinstance(at, bool) or not isinstance(at, numbers.Integral):
            raise SimulacraError(f"fork: at is a step (an int), not {at!r}")
        overrides = _toml.set_args(set)
        if out is None:
            out = _free(self.dir.parent, f"{self.dir.name}-fork{int(at)}")
        args = ["fork", self.dir, f"--at={int(at)}", *overrides, f"--out={os.fspath(out)}"]
        if force:
            args.append("--force")
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

    def view(self, serve: bool = False, port: int = 0) -> Union[Path, str]:
        """The run in the browser, round by round (`simulacra view DIR`): returns the path of
        view/index.html. `serve=True` starts `simulacra view DIR --serve` in the background on
        127.0.0.1 (`port` 0: any free port) and returns its URL; the server stops with
        `stop_view()` or when Python exits."""
        if not serve:
            call(["view", self.dir])
            return self.dir / "view" / "index.html"
        return _view.serve(self.dir, port)

    def stop_view(self) -> None:
        """Stops the server `view(serve=True)` started for this run (nothing if none runs)."""
        _view.stop(self.dir)

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
    force: bool = False,
    progress: bool = True,
    backend: str = "pandas",
) -> Run:
    """Runs a scenario (`simulacra run`): `scenario` is None (the embedded default), a TOML
    file, or a dict (copied as `scenario.toml` into the run's folder once the run finished);
    `set` holds overrides (`{"simulation.num_agents": 50}`); `out` the folder (default: a new
    one under runs/); `force=True` replaces a run already in `out` (`--force`)."""
    _frames.check(backend)
    overrides = _toml.set_args(set)
    with tempfile.TemporaryDirectory(prefix="simulacra-") as tmp:
        path = _scenario_path(scenario, Path(tmp))
        args = ["run", *([path] if path else []), *overrides]
        if out is not None:
            args.append(f"--out={os.fspath(out)}")
        if force:
            args.append("--force")
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
        _keep_scenario(scenario, path, Path(out))
    return Run(out, backend)


def _scenario_path(scenario: Scenario, tmp: Path) -> str | None:
    """The scenario file to pass: a file as an absolute path (never read as a flag), a dict
    written as TOML into the temporary folder `tmp` (the run's folder is not touched before
    the binary has accepted it: one that holds another run is refused, and its files stay
    that run's)."""
    if scenario is None:
        return None
    if isinstance(scenario, Mapping):
        path = tmp / "scenario.toml"
        path.write_text(_toml.dumps(scenario))
        return str(path)
    path = Path(scenario)
    if not path.is_file():
        raise SimulacraError(f"scenario file {path} does not exist")
    return str(path.resolve())


def _keep_scenario(scenario: Scenario, path: str | None, folder: Path) -> None:
    """After the binary succeeded: a dict scenario is copied into the folder it wrote as
    scenario.toml (the binary keeps the scenario in run.log, not as a file)."""
    if isinstance(scenario, Mapping) and path is not None:
        shutil.copyfile(path, folder / "scenario.toml")


def _seeds(seeds: str | int | Iterable[int]) -> str:
    """`--seeds`: a string as is ("1..10", "1,4,9"); an int N is N seeds, 1..N (one seed s
    is `[s]` or `"s"`); a range or a list of ints."""
    if isinstance(seeds, str):
        return seeds
    if isinstance(seeds, bool):
        raise SimulacraError(f"seeds: a count, a range, a list or a string, not {seeds!r}")
    if isinstance(seeds, numbers.Integral):
        if seeds < 1:
            raise SimulacraError(f"seeds={seeds!r}: an int is a number of seeds (1..N), 1 or more")
        return f"1..{int(seeds)}"
    if isinstance(seeds, range) and seeds.step == 1 and len(seeds) > 0:
        return f"{seeds.start}..{seeds.stop - 1}"
    seeds = [int(s) for s in seeds]
    if not seeds:
        raise SimulacraError("seeds: at least one seed")
    return ",".join(map(str, seeds))


def _free(parent: Path, stem: str) -> Path:
    n = 1
    while (parent / f"{stem}-{n}").exists():
        n += 1
    return parent / f"{stem}-{n}"
