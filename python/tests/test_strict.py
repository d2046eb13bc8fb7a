"""What the Python layer refuses or passes on before the binary runs: nothing is written into
a folder the binary has not accepted, paths and numbers never read as flags, `force=`, `set`
values checked, `seeds=N`."""

import pytest

import simulacra
from conftest import SMALL

tomllib = pytest.importorskip("tomllib")  # Python 3.11+

S1 = {"name": "one", "simulation": {"num_agents": 8, "timesteps": 20, "tax_year_length": 10}}
S2 = {"name": "two", "simulation": {"num_agents": 9, "timesteps": 20, "tax_year_length": 10}}


def test_a_refused_run_leaves_the_folder_as_it_was(tmp_path):
    out = tmp_path / "X"
    first = simulacra.run(scenario=S1, out=out, progress=False)
    assert tomllib.loads((out / "scenario.toml").read_text()) == S1
    before = {p.name: p.read_bytes() for p in out.iterdir() if p.is_file()}
    with pytest.raises(simulacra.SimulacraError, match="already holds a run"):
        simulacra.run(scenario=S2, out=out, progress=False)
    after = {p.name: p.read_bytes() for p in out.iterdir() if p.is_file()}
    assert after == before  # scenario.toml still describes the run in the folder
    assert first.summary["scenario"] == "one"


def test_force_replaces_the_run_and_its_scenario(tmp_path):
    out = tmp_path / "X"
    simulacra.run(scenario=S1, out=out, progress=False)
    again = simulacra.run(scenario=S2, out=out, force=True, progress=False)
    assert again.summary["scenario"] == "two" and again.summary["num_agents"] == 9
    assert tomllib.loads((out / "scenario.toml").read_text()) == S2


def test_a_refused_sweep_leaves_the_folder_as_it_was(tmp_path):
    out = tmp_path / "S"
    simulacra.sweep(scenario=S1, seeds=[1], out=out, progress=False)
    assert tomllib.loads((out / "scenario.toml").read_text()) == S1
    with pytest.raises(simulacra.SimulacraError, match="another sweep"):
        simulacra.sweep(scenario=S2, seeds=[1], out=out, progress=False)
    assert tomllib.loads((out / "scenario.toml").read_text()) == S1
    replaced = simulacra.sweep(scenario=S2, seeds=[1], out=out, force=True, progress=False)
    assert tomllib.loads((out / "scenario.toml").read_text()) == S2
    assert replaced.run(0).summary["num_agents"] == 9


def test_fork_force(small_run, tmp_path):
    out = tmp_path / "f"
    small_run.fork(at=50, set={"planner.policy": "saez"}, out=out, progress=False)
    with pytest.raises(simulacra.SimulacraError, match="--force"):
        small_run.fork(at=50, set={"planner.policy": "us-federal"}, out=out, progress=False)
    fork = small_run.fork(
        at=50, set={"planner.policy": "us-federal"}, out=out, force=True, progress=False
    )
    assert fork.summary["planner"]["planner"] == "us-federal"


def test_an_out_folder_that_starts_with_a_dash(tmp_path):
    run = simulacra.run(set=SMALL, out="-dash", progress=False)
    assert run.dir == (tmp_path / "-dash").resolve() and run.summary["num_agents"] == 20
    fork = run.fork(at=50, set={"planner.policy": "saez"}, out="-fork", progress=False)
    assert fork.dir.name == "-fork"
    sweep = simulacra.sweep(set=SMALL, seeds=[1], out="-sweep", progress=False)
    assert sweep.dir.name == "-sweep" and len(sweep.runs) == 1


def test_round_refuses_a_negative_year(small_run):
    for bad in (-1, 1.5, "3", True):
        with pytest.raises(simulacra.SimulacraError, match="tax year"):
            small_run.round(bad)
    assert small_run.round(0)["tax_year"] == 0


def test_set_none_and_unsupported_values_are_refused_before_the_binary_runs(monkeypatch):
    # No binary at all: the checks come first.
    monkeypatch.setenv("SIMULACRA_BIN", "/nonexistent")
    with pytest.raises(simulacra.SimulacraError) as e:
        simulacra.run(set={"simulation.num_agents": None})
    assert str(e.value) == (
        "set['simulation.num_agents']: None is not a value; omit the key to keep the default"
    )
    with pytest.raises(simulacra.SimulacraError, match=r"set\['planner.rates'\]: \{0.1\}"):
        simulacra.run(set={"planner.rates": {0.1}})
    with pytest.raises(simulacra.SimulacraError, match="dotted names"):
        simulacra.run(set={"simulation.seed=1\n[planner]\npolicy": "saez"})
    with pytest.raises(simulacra.SimulacraError, match="dotted names"):
        simulacra.sweep(grid={"planner policy": ["saez"]})
    with pytest.raises(simulacra.SimulacraError, match=r"grid\['planner.policy'\]: None"):
        simulacra.sweep(grid={"planner.policy": ["saez", None]})


def test_seeds_an_int_is_a_count():
    from simulacra._run import _seeds

    assert _seeds(3) == "1..3"
    assert _seeds([5]) == "5" and _seeds("5") == "5" and _seeds(range(2, 5)) == "2..4"
    for bad in (0, -2, True):
        with pytest.raises(simulacra.SimulacraError, match="seeds"):
            _seeds(bad)


def test_progress_without_term(capsys, monkeypatch):
    # The progress counters come from the binary's bar, which it draws only for a terminal
    # it can use: the pseudo-terminal is given a TERM when the caller has none (or "dumb").
    monkeypatch.setitem(__import__("sys").modules, "tqdm", None)
    monkeypatch.setitem(__import__("sys").modules, "tqdm.auto", None)
    for term in (None, "dumb"):
        if term is None:
            monkeypatch.delenv("TERM", raising=False)
        else:
            monkeypatch.setenv("TERM", term)
        simulacra.run(
            set={**SMALL, "simulation.num_agents": 300, "simulation.timesteps": 300},
            progress=True,
        )
        err = capsys.readouterr().err
        assert any(line.startswith("simulacra: ") for line in err.splitlines()), (term, err)
