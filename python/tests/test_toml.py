"""Python values to the CLI's TOML overrides and scenario files."""

import pytest

from simulacra import SimulacraError, _toml

tomllib = pytest.importorskip("tomllib")  # Python 3.11+


def test_literals_are_toml():
    assert _toml.literal("saez") == '"saez"'
    assert _toml.literal('a "quoted"\nline') == '"a \\"quoted\\"\\nline"'
    assert _toml.literal(True) == "true" and _toml.literal(False) == "false"
    assert _toml.literal(50) == "50"
    assert _toml.literal(0.1) == "0.1"
    assert _toml.literal([0.1, 0.3, 0.5]) == "[0.1, 0.3, 0.5]"
    assert _toml.literal(["a", 1, True]) == '["a", 1, true]'
    assert _toml.literal(float("inf")) == "inf"


def test_set_args_round_trip_through_a_toml_parser():
    overrides = {
        "planner.rates": [0.1, 0.3],
        "planner.policy": "fixed",
        "baselines.enabled": False,
        "x.y": 7,
    }
    args = _toml.set_args(overrides)
    assert args[0::2] == ["--set"] * 4
    for arg, (key, value) in zip(args[1::2], overrides.items()):
        k, literal = arg.split("=", 1)
        assert k == key
        assert tomllib.loads(f"v = {literal}")["v"] == value


def test_unsupported_values_are_simulacra_errors_naming_key_value_and_kinds():
    with pytest.raises(SimulacraError) as e:
        _toml.set_args({"planner.policy": {1, 2}})
    assert "set['planner.policy']" in str(e.value) and "{1, 2}" in str(e.value)
    assert "(set)" in str(e.value) and "int, float, str or bool" in str(e.value)
    with pytest.raises(SimulacraError, match=r"set\['x'\]: None is not a value; omit the key"):
        _toml.set_args({"x": None})
    # Inside a list too, and in a scenario dict (named as such).
    with pytest.raises(SimulacraError, match=r"set\['planner.rates'\]: None"):
        _toml.set_args({"planner.rates": [0.1, None]})
    with pytest.raises(SimulacraError, match=r"scenario\['simulation.seed'\]: None"):
        _toml.dumps({"simulation": {"seed": None}})


def test_set_keys_are_dotted_names():
    for bad in [1, "", "simulation. seed", "a=b", "simulation.seed\n[planner]", ("a", "b")]:
        with pytest.raises(SimulacraError, match="dotted names"):
            _toml.set_args({bad: 1})
    with pytest.raises(SimulacraError, match="a dict of overrides"):
        _toml.set_args([("simulation.seed", 1)])
    assert _toml.set_args({"name": "x", "llm.model-name_2": 1}) == [
        "--set",
        'name="x"',
        "--set",
        "llm.model-name_2=1",
    ]


def test_grid_values_stay_bare_when_they_read_back_as_the_same_string():
    assert _toml.grid_literal("hill-climb", "k") == "hill-climb"
    assert _toml.grid_literal("true", "k") == '"true"'
    assert _toml.grid_literal(0.5, "k") == "0.5"
    assert _toml.grid_literal("two words", "k") == '"two words"'


def test_scenario_dicts_become_toml_documents():
    doc = {
        "name": "py",
        "simulation": {"num_agents": 30, "seed": 7},
        "planner": {"policy": "saez", "rates": [0.1]},
        "a": {"b": {"c": 1}},
    }
    assert tomllib.loads(_toml.dumps(doc)) == doc
