"""simulacra from Python: run the LLM Economist's tax game and read the results as DataFrames.

A thin layer over the `simulacra` binary that the wheel installs: every call runs one CLI
command and reads the files it writes (steps.csv, summary.json, the Parquet export, ...).

    import simulacra
    run = simulacra.run(set={"simulation.num_agents": 50})
    run.steps.plot(x="step", y="welfare")
    print(run.summary["swf_final"], run.round(3)["rates"])
"""

from ._binary import SimulacraError, binary
from ._frames import MissingExtra
from ._run import Run, load, run
from ._sweep import Sweep, sweep


def __getattr__(name: str):
    # The version is looked up on first use: importlib.metadata costs ~30 ms at import time.
    if name == "__version__":
        from importlib.metadata import PackageNotFoundError, version

        try:
            return version("simulacra")
        except PackageNotFoundError:  # a source checkout on PYTHONPATH
            return "0+unknown"
    raise AttributeError(f"module 'simulacra' has no attribute {name!r}")


__all__ = [
    "Run",
    "Sweep",
    "SimulacraError",
    "MissingExtra",
    "binary",
    "load",
    "run",
    "sweep",
    "__version__",
]
