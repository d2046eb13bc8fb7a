"""Executes the example notebooks (nbclient) against the installed simulacra package, each in
a fresh temporary working folder, and fails on the first cell that raises. CI runs it in the
virtual environment the wheel was installed into, so the notebooks cannot rot.

    python examples/execute.py [NOTEBOOK.ipynb ...]     # default: every notebook here
"""

import sys
import tempfile
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError

HERE = Path(__file__).resolve().parent


def main(paths: list[str]) -> int:
    notebooks = [Path(p) for p in paths] or sorted(HERE.glob("*.ipynb"))
    if not notebooks:
        print("no notebooks found", file=sys.stderr)
        return 1
    for path in notebooks:
        nb = nbformat.read(path, as_version=4)
        with tempfile.TemporaryDirectory(prefix="simulacra-nb-") as cwd:
            client = NotebookClient(
                nb, timeout=600, kernel_name="python3", resources={"metadata": {"path": cwd}}
            )
            start = time.perf_counter()
            try:
                client.execute()
            except CellExecutionError as e:
                print(f"{path.name}: FAILED\n{e}", file=sys.stderr)
                return 1
            print(f"{path.name}: ok ({len(nb.cells)} cells, {time.perf_counter() - start:.1f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
