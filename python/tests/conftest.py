"""Shared fixtures: small runs (20 workers x 100 steps, tax years of 10) made once per session
in a temporary folder, so the whole suite takes seconds."""

import sys
from pathlib import Path

import pytest

# A source checkout: import python/simulacra when the package is not installed.
try:
    import simulacra  # noqa: F401
except ImportError:
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    import simulacra  # noqa: F401

SMALL = {
    "simulation.num_agents": 20,
    "simulation.timesteps": 100,
    "simulation.tax_year_length": 10,
}


@pytest.fixture(scope="session")
def workdir(tmp_path_factory):
    return tmp_path_factory.mktemp("runs")


@pytest.fixture(scope="session")
def small_run(workdir):
    return simulacra.run(set=SMALL, out=workdir / "small", progress=False)


@pytest.fixture(autouse=True)
def _in_tmp(tmp_path, monkeypatch):
    # Runs without `out` go under ./runs and ./sweeps: keep them out of the repository.
    monkeypatch.chdir(tmp_path)
