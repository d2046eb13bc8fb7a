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
from ._run import Run, load, run, sweep

try:
    from importlib.metadata import PackageNotFoundError, version as _version

    __version__ = _version("simulacra")
except PackageNotFoundError:  # a source checkout on PYTHONPATH
    __version__ = "0+unknown"

__all__ = ["Run", "SimulacraError", "MissingExtra", "binary", "load", "run", "sweep", "__version__"]
