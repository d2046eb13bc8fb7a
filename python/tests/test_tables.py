"""Tables with fixed columns and kinds: an empty `elections` with elections.csv's columns,
integer event fields as integers, a part of `agents()` read without the rest; the viewer."""

import urllib.request
from pathlib import Path

import pandas as pd
import pytest

import simulacra
from simulacra import _frames
from conftest import SMALL

REPO = Path(__file__).resolve().parents[2]


def _elections_header() -> list[str]:
    """The header src/run/tables.rs writes (without the liquid columns, or a federation's
    region column)."""
    src = (REPO / "src" / "run" / "tables.rs").read_text()
    start = src.index('"tax_year,step,rule,winner')
    return src[start + 1 : src.index('"', start + 1)].split(",")


def test_the_schema_is_the_writers():
    assert list(_frames.ELECTIONS) == _elections_header()


def test_elections_without_elections_have_the_columns(small_run):
    empty = small_run.elections
    assert empty.empty and list(empty.columns) == _elections_header()
    assert empty["tax_year"].dtype == "int64" and empty["welfare"].dtype == "float64"
    assert empty["winner_income_decile"].dtype == "Int64"
    pl = pytest.importorskip("polars")
    empty_pl = simulacra.load(small_run.dir, backend="polars").elections
    assert empty_pl.columns == _elections_header() and empty_pl.height == 0


def test_elections_concatenate_with_and_without(small_run, tmp_path):
    voted = simulacra.run(
        set={**SMALL, "governance.mode": "election", "governance.rule": "referendum"},
        out=tmp_path / "referendum",
        progress=False,
    )
    e = voted.elections
    # A referendum has no winner's decile, a margin of 0 and a turnout of 1 in some years:
    # the kinds stay those of the schema, not what this file's values look like.
    assert e["winner_income_decile"].dtype == "Int64" and e["turnout"].dtype == "float64"
    both = pd.concat([small_run.elections, e], ignore_index=True)
    assert list(both.columns) == list(e.columns) and len(both) == len(e)
    assert both["tax_year"].dtype == "int64"
    pl = pytest.importorskip("polars")
    epl = simulacra.load(voted.dir, backend="polars").elections
    assert pl.concat([simulacra.load(small_run.dir, backend="polars").elections, epl]).height == 10


def test_event_region_is_an_integer(tmp_path):
    fed = simulacra.run(
        scenario=REPO / "scenarios" / "federation.toml",
        set={**SMALL, "simulation.timesteps": 40},
        out=tmp_path / "fed",
        progress=False,
    )
    events = fed.events()
    assert events["region"].dtype == "Int64" and events["population"].dtype == "Int64"
    outcomes = events[events["event"] == "region_outcome"]
    assert set(outcomes["region"]) == {0, 1} and outcomes["region"].notna().all()
    assert events.loc[events["event"] == "outcome", "region"].isna().all()
    assert events["welfare"].dtype == "float64"


def test_a_federation_has_regions_and_placed_elections(tmp_path):
    fed = simulacra.run(
        scenario=REPO / "scenarios" / "federation.toml",
        set={**SMALL, "simulation.timesteps": 40},
        out=tmp_path / "fed",
        progress=False,
    )
    regions = fed.regions
    # Two regions x 40 steps, every step's populations adding up to the nation.
    assert len(regions) == 80 and set(regions["region"]) == {0, 1}
    assert (regions.groupby("step")["population"].sum() == 20).all()
    assert regions["moves_in"].sum() == fed.summary["federation"]["moves_total"]
    assert regions["population"].dtype == "int64" and regions["rate_0"].dtype == "float64"
    # The elected north's elections, placed.
    e = fed.elections
    assert len(e) > 0 and set(e["region"]) == {"0"}
    pl = pytest.importorskip("polars")
    assert simulacra.load(fed.dir, backend="polars").regions.height == 80
    # A run that is not a federation has no regions to read.
    with pytest.raises(simulacra.SimulacraError, match="not a federation run"):
        simulacra.run(set=SMALL, out=tmp_path / "plain", progress=False).regions


def test_agents_reads_only_the_part_asked_for(small_run):
    whole = small_run.agents()
    part = small_run.agents(columns=["step", "agent", "hours"], steps=range(10, 20), workers=[3, 7])
    assert list(part.columns) == ["step", "agent", "hours"] and len(part) == 10 * 2
    expected = whole[whole["step"].between(10, 19) & whole["agent"].isin([3, 7])]
    pd.testing.assert_frame_equal(
        part.reset_index(drop=True), expected[["step", "agent", "hours"]].reset_index(drop=True)
    )
    one = small_run.agents(steps=99, columns="income")
    assert list(one.columns) == ["income"] and len(one) == 20
    assert len(small_run.agents(workers=range(5))) == 5 * 100
    pl = pytest.importorskip("polars")
    lazy = small_run.agents(columns=["step", "agent", "hours"], steps=range(10, 20), workers=[3, 7],
                            backend="polars")
    assert isinstance(lazy, pl.DataFrame) and lazy.to_pandas().equals(part)
    with pytest.raises(simulacra.SimulacraError, match=r"steps: an int, a range or a list"):
        small_run.agents(steps=[1.5])
    with pytest.raises(simulacra.SimulacraError, match="workers"):
        small_run.agents(workers="3")
    with pytest.raises(simulacra.SimulacraError, match="no column"):
        small_run.agents(columns=["hours", "wage"])


def test_agents_pushes_the_selection_down_to_the_parquet_reader(small_run, monkeypatch):
    # The file is scanned (pyarrow dataset, polars scan_parquet) with the filter and the
    # columns; it is never read whole.
    import pyarrow.parquet as pq

    def whole(*args, **kwargs):
        raise AssertionError("read the whole file")

    monkeypatch.setattr(pq, "read_table", whole)
    monkeypatch.setattr(pd, "read_parquet", whole)
    small_run.agents()  # exported once
    assert len(small_run.agents(steps=5, columns=["hours"])) == 20


def test_agents_over_many_row_groups_equals_filtering_the_whole(tmp_path):
    # A large run's file has many row groups (whole steps each); pandas reads them one at a
    # time. The same rows, in file order, as filtering the whole table; no match keeps types.
    import pyarrow as pa
    import pyarrow.parquet as pq

    steps, workers = 12, 7
    whole = pd.DataFrame({
        "step": [s for s in range(steps) for _ in range(workers)],
        "agent": [a for _ in range(steps) for a in range(workers)],
        "hours": [float(s * 100 + a) for s in range(steps) for a in range(workers)],
    })
    path = tmp_path / "agents.parquet"
    pq.write_table(pa.Table.from_pandas(whole, preserve_index=False), path,
                   row_group_size=2 * workers)
    assert pq.ParquetFile(path).metadata.num_row_groups == 6
    part = _frames.read_parquet(path, columns=["step", "hours"],
                                filters={"step": ("steps", range(3, 9)), "agent": ("workers", [1, 5])})
    expected = whole[whole["step"].between(3, 8) & whole["agent"].isin([1, 5])]
    pd.testing.assert_frame_equal(part, expected[["step", "hours"]].reset_index(drop=True))
    everyone = _frames.read_parquet(path)
    pd.testing.assert_frame_equal(everyone, whole)
    none = _frames.read_parquet(path, filters={"step": ("steps", 99)})
    assert len(none) == 0 and list(none.columns) == ["step", "agent", "hours"]
    assert str(none["hours"].dtype) == "float64"


def test_view_writes_the_page_and_serves_it(small_run):
    page = small_run.view()
    assert page == small_run.dir / "view" / "index.html" and page.is_file()
    url = small_run.view(serve=True)
    try:
        assert url.startswith("http://127.0.0.1:") and url.endswith("/")
        assert small_run.view(serve=True) == url  # one server per run
        with urllib.request.urlopen(url, timeout=10) as r:
            assert r.status == 200 and b"<html" in r.read().lower()
    finally:
        small_run.stop_view()
    with pytest.raises(OSError):
        urllib.request.urlopen(url, timeout=5)
