"""The `Sweep` that `simulacra.sweep` returns: its folder, runs.csv with absolute run folders
and one typed column per grid axis, aggregate.csv, every run's steps in one long table, a run
from a row; pandas and polars alike."""

from pathlib import Path

import pandas as pd
import pytest

import simulacra
from simulacra._sweep import _axis_values
from conftest import SMALL

GRID = {"planner.policy": ["hill-climb", "saez"], "planner.initial_rate": [0.3, 0.5]}


@pytest.fixture(scope="session")
def small_sweep(workdir):
    return simulacra.sweep(set=SMALL, seeds=2, grid=GRID, out=workdir / "sweep", progress=False)


def test_the_sweep_knows_its_folder(small_sweep, workdir):
    assert isinstance(small_sweep, simulacra.Sweep)
    assert small_sweep.dir == (workdir / "sweep").resolve() and small_sweep.dir.is_absolute()
    assert small_sweep.axes == ["planner.policy", "planner.initial_rate"]


def test_runs_have_absolute_folders_and_one_typed_column_per_axis(small_sweep):
    runs = small_sweep.runs
    assert len(runs) == 8  # seeds=2 is seeds 1 and 2, x 4 configurations
    assert sorted(set(runs["seed"])) == [1, 2]
    assert list(runs.columns[:4]) == [
        "configuration",
        "planner.policy",
        "planner.initial_rate",
        "seed",
    ]
    assert set(runs["planner.policy"]) == {"hill-climb", "saez"}
    assert runs["planner.initial_rate"].dtype == "float64"
    assert set(runs["planner.initial_rate"]) == {0.3, 0.5}
    for d in runs["dir"]:
        assert Path(d).is_absolute() and (Path(d) / "run.log").is_file()
    # The columns agree with each run's own summary.
    for _, row in runs.iterrows():
        summary = simulacra.load(row["dir"]).summary
        assert summary["seed"] == row["seed"]
        assert summary["planner"]["planner"] == row["planner.policy"]
        assert summary["swf_final"] == pytest.approx(row["swf"], rel=1e-9)


def test_aggregate(small_sweep):
    agg = small_sweep.aggregate
    assert len(agg) == 4 and (agg["runs"] == 2).all()
    pd.testing.assert_frame_equal(
        agg.drop(columns=["planner.policy", "planner.initial_rate"]),
        pd.read_csv(small_sweep.dir / "aggregate.csv"),
    )
    tidy = small_sweep.runs.groupby("planner.policy")["swf"].mean()
    assert set(tidy.index) == {"hill-climb", "saez"}


def test_steps_is_one_long_table_keyed_by_run(small_sweep):
    steps = small_sweep.steps()
    assert len(steps) == 8 * 100
    assert list(steps.columns[:4]) == [
        "configuration",
        "seed",
        "planner.policy",
        "planner.initial_rate",
    ]
    one = steps[(steps["planner.policy"] == "saez") & (steps["planner.initial_rate"] == 0.5)]
    one = one[one["seed"] == 2].drop(columns=list(steps.columns[:4])).reset_index(drop=True)
    row = small_sweep.runs
    row = row[(row["configuration"] == "planner.policy=saez planner.initial_rate=0.5")]
    row = row[row["seed"] == 2].iloc[0]
    pd.testing.assert_frame_equal(one, pd.read_csv(Path(row["dir"]) / "steps.csv"))


def test_a_run_from_a_row_or_a_position(small_sweep):
    runs = small_sweep.runs
    best = runs["swf"].idxmax()
    run = small_sweep.run(best)
    assert isinstance(run, simulacra.Run) and run.dir == Path(runs.loc[best, "dir"])
    assert small_sweep.run(runs.loc[best]).dir == run.dir
    assert small_sweep.run({"dir": runs.loc[best, "dir"]}).dir == run.dir
    with pytest.raises(simulacra.SimulacraError, match="8 runs"):
        small_sweep.run(8)
    with pytest.raises(simulacra.SimulacraError, match="a position in .runs or a row"):
        small_sweep.run("planner.policy=saez")


def test_the_old_return_value_still_works(small_sweep):
    # sweep() used to return runs.csv as a DataFrame.
    assert len(small_sweep) == 8
    assert sorted(set(small_sweep["configuration"])) == sorted(set(small_sweep.runs["configuration"]))
    assert len(small_sweep.attrs["aggregate"]) == 4
    assert small_sweep.shape == small_sweep.runs.shape


def test_polars_for_every_table(small_sweep):
    pl = pytest.importorskip("polars")
    sw = simulacra.Sweep(small_sweep.dir, backend="polars")
    runs = sw.runs
    assert isinstance(runs, pl.DataFrame) and runs.height == 8
    assert runs.schema["planner.initial_rate"] == pl.Float64
    assert runs.columns[:4] == ["configuration", "planner.policy", "planner.initial_rate", "seed"]
    assert all(Path(d).is_absolute() for d in runs["dir"])
    assert isinstance(sw.aggregate, pl.DataFrame) and sw.aggregate.height == 4
    steps = sw.steps()
    assert isinstance(steps, pl.DataFrame) and steps.height == 800
    assert steps.columns[:4] == ["configuration", "seed", "planner.policy", "planner.initial_rate"]
    run = sw.run(runs.row(3, named=True))
    assert run.backend == "polars" and run.dir == Path(runs["dir"][3])
    assert small_sweep.steps(backend="polars").height == 800


def test_configuration_labels_into_typed_values():
    assert _axis_values("base") == {}
    assert _axis_values("planner.policy=hill-climb workers.policy=rational") == {
        "planner.policy": "hill-climb",
        "workers.policy": "rational",
    }
    assert _axis_values('name="a b" planner.initial_rate=0.5 baselines.enabled=true') == {
        "name": "a b",
        "planner.initial_rate": 0.5,
        "baselines.enabled": True,
    }
    # Arrays stay as their text (a column of lists could not be grouped).
    assert _axis_values("planner.rates=[0.1, 0.2] simulation.seed=3") == {
        "planner.rates": "[0.1, 0.2]",
        "simulation.seed": 3,
    }
