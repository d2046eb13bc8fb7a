"""The Python API against the real binary: every name of the contract, values read back
equal to the files the binary wrote, errors carrying the binary's message."""

import json
import math
import os
import subprocess
import sys
import sysconfig
from pathlib import Path

import pandas as pd
import pytest

import simulacra
from conftest import SMALL


def test_binary_is_the_override_or_the_one_beside_the_package():
    path = Path(simulacra.binary())
    if "SIMULACRA_BIN" in os.environ:
        assert path == Path(os.environ["SIMULACRA_BIN"])
    else:
        # Installed from the wheel: the binary sits in this environment's scripts folder.
        assert path.parent == Path(sysconfig.get_path("scripts"))
    out = subprocess.run(
        [str(path), "--version"], capture_output=True, text=True, check=True
    ).stdout
    if simulacra.__version__ != "0+unknown":
        assert out.split()[-1] == simulacra.__version__


def test_a_bad_binary_override_is_a_clear_error(monkeypatch, tmp_path):
    monkeypatch.setenv("SIMULACRA_BIN", str(tmp_path / "nope"))
    with pytest.raises(simulacra.SimulacraError, match="SIMULACRA_BIN"):
        simulacra.run(set=SMALL)


def test_summary_and_steps_are_the_files(small_run):
    assert small_run.dir.is_dir()
    assert small_run.summary == json.loads((small_run.dir / "summary.json").read_text())
    steps = small_run.steps
    pd.testing.assert_frame_equal(steps, pd.read_csv(small_run.dir / "steps.csv"))
    assert len(steps) == 100 and steps["step"].tolist() == list(range(100))
    # swf_final is the mean welfare over the last tax year.
    last = steps[steps["tax_year"] == steps["tax_year"].max()]
    assert math.isclose(last["welfare"].mean(), small_run.summary["swf_final"], rel_tol=1e-12)


def test_a_run_from_python_is_the_cli_run(small_run, tmp_path):
    args = [simulacra.binary(), "run", "--quiet", "--out", str(tmp_path / "cli")]
    for k, v in SMALL.items():
        args += ["--set", f"{k}={v}"]
    subprocess.run(args, check=True, capture_output=True)
    cli = json.loads((tmp_path / "cli" / "summary.json").read_text())
    assert cli["log_sha256"] == small_run.summary["log_sha256"]
    assert cli["swf_final"] == small_run.summary["swf_final"]


def test_default_folder_is_found_from_the_cli_output(tmp_path):
    run = simulacra.run(set=SMALL, progress=False)
    assert run.dir == (tmp_path / "runs" / "default-s42-1").resolve()
    assert run.summary["num_agents"] == 20


def test_a_bad_scenario_key_names_the_key():
    with pytest.raises(simulacra.SimulacraError) as e:
        simulacra.run(set={**SMALL, "simulation.bogus_key": 1})
    assert "bogus_key" in str(e.value)
    assert e.value.returncode == 2
    assert not isinstance(e.value, subprocess.CalledProcessError)


def test_a_bad_value_names_the_key():
    with pytest.raises(simulacra.SimulacraError, match="simulation.num_agents"):
        simulacra.run(set={"simulation.num_agents": "many"})


def test_set_values_of_every_type_reach_the_run(tmp_path):
    run = simulacra.run(
        set={
            **SMALL,
            "planner.policy": "fixed",
            "planner.rates": [0.1, 0.3, 0.5],
            "baselines.enabled": False,
            "simulation.seed": 7,
        },
        out=tmp_path / "typed",
        progress=False,
    )
    s = run.summary
    assert s["seed"] == 7
    assert s["tax_rates_final"] == [0.1, 0.3, 0.5]
    assert s["planner"]["planner"] == "fixed"
    assert s["baselines"].get("saez") is None and s["baselines"].get("us_federal") is None


def test_a_scenario_dict_is_written_into_the_run_folder(tmp_path):
    scenario = {
        "name": "fromdict",
        "simulation": {"num_agents": 12, "timesteps": 20, "tax_year_length": 10},
    }
    run = simulacra.run(scenario=scenario, progress=False)
    assert run.dir.name == "fromdict-s42-1"
    assert run.summary["num_agents"] == 12 and run.summary["scenario"] == "fromdict"
    tomllib = pytest.importorskip("tomllib")  # Python 3.11+
    assert tomllib.loads((run.dir / "scenario.toml").read_text()) == scenario
    # ... and with `out`, the file is in that folder before the run starts.
    run2 = simulacra.run(scenario=scenario, out=tmp_path / "given", progress=False)
    assert (run2.dir / "scenario.toml").is_file()
    assert run2.summary["log_sha256"] == run.summary["log_sha256"]


def test_a_scenario_path(tmp_path):
    path = tmp_path / "s.toml"
    path.write_text(
        'name = "file"\n[simulation]\nnum_agents = 9\ntimesteps = 20\ntax_year_length = 10\n'
    )
    run = simulacra.run(scenario=path, progress=False)
    assert run.summary["num_agents"] == 9
    with pytest.raises(simulacra.SimulacraError, match="does not exist"):
        simulacra.run(scenario=tmp_path / "missing.toml")


def test_agents_one_row_per_worker_per_step(small_run):
    agents = small_run.agents()
    assert isinstance(agents, pd.DataFrame)
    assert len(agents) == 20 * 100
    assert list(agents.columns) == [
        "step",
        "tax_year",
        "agent",
        "skill",
        "hours",
        "income",
        "tax",
        "utility",
    ]
    by_step = agents.groupby("step")["hours"].mean().to_numpy()
    assert by_step == pytest.approx(small_run.steps["mean_hours"].to_numpy(), rel=1e-9)
    assert (small_run.dir / "agents.parquet").is_file()


def test_polars_backend(small_run):
    pl = pytest.importorskip("polars")
    agents = small_run.agents(backend="polars")
    assert isinstance(agents, pl.DataFrame) and agents.shape == (2000, 8)
    steps = simulacra.load(small_run.dir, backend="polars").steps
    assert isinstance(steps, pl.DataFrame) and steps.height == 100
    assert isinstance(small_run.events(backend="polars"), pl.DataFrame)


def test_a_missing_extra_names_it(small_run, monkeypatch):
    monkeypatch.setitem(sys.modules, "polars", None)
    with pytest.raises(simulacra.MissingExtra, match=r"simulacra\[polars\]"):
        small_run.agents(backend="polars")
    monkeypatch.setitem(sys.modules, "pandas", None)
    with pytest.raises(ImportError, match=r"simulacra\[pandas\]"):
        small_run.steps


def test_events(small_run):
    events = small_run.events()
    counts = events["event"].value_counts()
    assert counts["step_begin"] == 100 and counts["outcome"] == 100
    assert counts["planner_move"] == 10  # one per tax year
    outcomes = events[events["event"] == "outcome"]
    assert outcomes["welfare"].to_numpy() == pytest.approx(
        small_run.steps["welfare"].to_numpy(), rel=1e-12
    )


def test_elections_empty_without_and_one_row_per_year_with(small_run, tmp_path):
    assert small_run.elections.empty
    voted = simulacra.run(
        set={**SMALL, "governance.mode": "election", "governance.rule": "borda"},
        out=tmp_path / "voted",
        progress=False,
    )
    elections = voted.elections
    assert len(elections) == 10
    assert set(elections["rule"]) == {"borda"}
    assert voted.summary["governance"]["elections"] == 10


def test_round_is_inspect_json(small_run):
    r = small_run.round(3)
    assert r["tax_year"] == 3 and len(r["workers"]) == 20
    steps = small_run.steps
    first = steps[steps["tax_year"] == 3].iloc[0]
    assert r["rates"] == pytest.approx([first["rate_0"], first["rate_1"], first["rate_2"]])
    with pytest.raises(simulacra.SimulacraError):
        small_run.round(99)


def test_verify(small_run, tmp_path):
    assert small_run.verify() is True
    broken = simulacra.run(set=SMALL, out=tmp_path / "broken", progress=False)
    log = broken.dir / "run.log"
    data = bytearray(log.read_bytes())
    data[len(data) // 2] ^= 0xFF
    log.write_bytes(bytes(data))
    with pytest.raises(simulacra.SimulacraError) as e:
        broken.verify()
    # The binary's own verdict (printed on stdout, exit 1), naming the first bad frame.
    assert e.value.returncode == 1
    assert str(e.value).startswith("differs:") and "frame" in str(e.value)


def test_fork_prefix_equals_the_parent(small_run, tmp_path):
    fork = small_run.fork(
        at=50, set={"planner.policy": "saez"}, out=tmp_path / "fork", progress=False
    )
    assert isinstance(fork, simulacra.Run) and fork.summary["planner"]["planner"] == "saez"
    parent, child = small_run.steps, fork.steps
    pd.testing.assert_frame_equal(parent.iloc[:50], child.iloc[:50])
    assert (
        not parent.iloc[50:].reset_index(drop=True).equals(child.iloc[50:].reset_index(drop=True))
    )
    assert fork.verify()
    default = small_run.fork(at=50, set={"planner.policy": "saez"}, progress=False)
    assert default.dir.parent == small_run.dir.parent and default.dir.name.startswith(
        "small-fork50-"
    )


def test_report(small_run):
    html = small_run.report()
    assert html == small_run.dir / "report" / "report.html" and html.stat().st_size > 1000


def test_load(small_run, tmp_path):
    again = simulacra.load(str(small_run.dir))
    assert again.summary == small_run.summary
    with pytest.raises(simulacra.SimulacraError, match="run.log"):
        simulacra.load(tmp_path)


def test_sweep(tmp_path):
    runs = simulacra.sweep(
        seeds=range(1, 3),
        set=SMALL,
        grid={"planner.policy": ["hill-climb", "saez"]},
        out=tmp_path / "sw",
        jobs=2,
        progress=False,
    )
    assert len(runs) == 4
    assert sorted(set(runs["configuration"])) == [
        "planner.policy=hill-climb",
        "planner.policy=saez",
    ]
    assert sorted(set(runs["seed"])) == [1, 2]
    agg = runs.attrs["aggregate"]
    assert len(agg) == 2 and (agg["runs"] == 2).all()
    one = runs[(runs["configuration"] == "planner.policy=saez") & (runs["seed"] == 2)].iloc[0]
    solo = simulacra.load(
        tmp_path / "sw" / one["dir"] if not Path(one["dir"]).is_absolute() else one["dir"]
    )
    assert one["swf"] == pytest.approx(solo.summary["swf_final"], rel=1e-9)


PROGRESS_RUN = {
    "simulation.num_agents": 300,
    "simulation.timesteps": 300,
    "workers.policy": "bounded",
    "baselines.enabled": False,
}


def test_progress_without_tqdm_prints_the_binary_counter(capsys, monkeypatch):
    monkeypatch.setitem(sys.modules, "tqdm", None)
    monkeypatch.setitem(sys.modules, "tqdm.auto", None)
    run = simulacra.run(set=PROGRESS_RUN, progress=True)
    err = capsys.readouterr().err
    counters = [line for line in err.splitlines() if line.startswith("simulacra: ")]
    assert counters, err
    assert all(line.endswith("/300 steps") for line in counters), counters
    assert run.summary["steps_run"] == 300


def test_progress_with_tqdm(capsys):
    pytest.importorskip("tqdm")
    simulacra.run(set=PROGRESS_RUN, progress=True)
    err = capsys.readouterr().err
    assert "/300" in err and "simulacra" in err
    # The binary's own bar characters are not passed through.
    assert "steps  " not in err
