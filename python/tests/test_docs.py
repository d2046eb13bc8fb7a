"""docs/python.md's API table is the package: every public name of the module, of a `Run` and
of a `Sweep` has a row, and every row's arguments and defaults are the signature's."""

import ast
import inspect
import re
from pathlib import Path

import pytest

import simulacra

DOC = Path(__file__).resolve().parents[2] / "docs" / "python.md"
ROW = re.compile(r"^\| `(simulacra|run|sweep)\.([A-Za-z_]\w*)(\((.*)\))?` \|")


def _table() -> dict[str, dict[str, str | None]]:
    """{"simulacra": {name: args or None}, "run": ..., "sweep": ...} from the API table."""
    text = DOC.read_text()
    section = text[text.index("## The API") :]
    section = section[: section.index("\n## ", 1)]
    rows: dict[str, dict[str, str | None]] = {"simulacra": {}, "run": {}, "sweep": {}}
    for line in section.splitlines():
        m = ROW.match(line)
        if m:
            owner, name, args = m.group(1), m.group(2), m.group(4)
            assert name not in rows[owner], f"{owner}.{name} has two rows"
            rows[owner][name] = args
    return rows


def _documented(args: str) -> list[tuple[str, object]]:
    """"a, b=1, c=None" -> [("a", EMPTY), ("b", 1), ("c", None)]."""
    call = ast.parse(f"f({args})", mode="eval").body
    out: list[tuple[str, object]] = [(a.id, inspect.Parameter.empty) for a in call.args]
    out += [(k.arg, ast.literal_eval(k.value)) for k in call.keywords]
    return out


def _check(owner: str, name: str, obj: object, args: str | None) -> None:
    where = f"docs/python.md: `{owner}.{name}`"
    callable_ = inspect.isfunction(obj) or inspect.ismethod(obj)
    is_class = inspect.isclass(obj)
    if args is None:
        assert not callable_, f"{where} is a function: write its arguments"
        assert not is_class or issubclass(obj, BaseException), f"{where}: write its arguments"
        return
    assert callable_ or is_class, f"{where} is documented as a call but is not callable"
    params = [
        (p.name, p.default)
        for p in inspect.signature(obj).parameters.values()
        if p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)
    ]
    assert _documented(args) == params, f"{where}: the signature is {inspect.signature(obj)}"


def _public(names) -> set[str]:
    return {n for n in names if not n.startswith("_")}


def test_every_module_name_has_a_row_with_its_signature():
    rows = _table()["simulacra"]
    names = set(simulacra.__all__)
    assert names == _public(dir(simulacra)) | {"__version__"}
    assert set(rows) == names
    for name, args in rows.items():
        _check("simulacra", name, getattr(simulacra, name), args)


@pytest.mark.parametrize("owner", ["run", "sweep"])
def test_every_member_of_a_run_and_a_sweep_has_a_row(owner, small_run, tmp_path):
    if owner == "run":
        obj = small_run
    else:
        obj = simulacra.sweep(
            seeds=[1],
            set={
                "simulation.num_agents": 5,
                "simulation.timesteps": 10,
                "simulation.tax_year_length": 5,
            },
            out=tmp_path / "sw",
            progress=False,
        )
    rows = _table()[owner]
    assert set(rows) == _public(dir(obj)), f"docs/python.md: the `{owner}.` rows"
    for name, args in rows.items():
        member = inspect.getattr_static(obj, name)
        if isinstance(member, (property, Path, str)):
            assert args is None, f"docs/python.md: `{owner}.{name}` is not a call"
            continue
        _check(owner, name, getattr(obj, name), args)


def test_the_table_parser_sees_arguments():
    # (guards the test itself: a row's arguments are read, not skipped)
    assert _documented('a, b=None, c="x", d=0') == [
        ("a", inspect.Parameter.empty),
        ("b", None),
        ("c", "x"),
        ("d", 0),
    ]
    assert _table()["run"]["fork"] == "at, set=None, out=None, force=False, progress=True"


def test_the_study_fits_in_under_15_lines():
    nbformat = pytest.importorskip("nbformat")
    nb = nbformat.read(DOC.parents[1] / "examples" / "study.ipynb", as_version=4)
    study = next(c for c in nb.cells if c.cell_type == "code")
    lines = [line for line in study.source.splitlines() if line.strip()]
    assert len(lines) < 15, study.source
    assert "simulacra.sweep(" in study.source and ".fork(" in study.source
