"""Time and peak memory of `Run.agents()` on a large run, each case in a fresh process.

    python benches/agents_memory.py [--workers 100000] [--steps 200] [--dir DIR]

Plays the run once into DIR (baselines off; kept and reused when it is already there), exports
its agents.parquet, then runs each documented case (and the whole table, up to 20,000 workers)
in a new Python process and prints its wall time (imports included) and the peak resident
memory of the whole process (Linux: it reads /proc/self/status). The figures in docs/python.md
("Measured") come from this command. It needs the package importable (the
wheel, or PYTHONPATH=python with SIMULACRA_BIN set) with pandas, pyarrow and polars.
"""

import argparse
import subprocess
import sys
import tempfile
from pathlib import Path

CASES = {
    "steps=range(100, 110), pandas": ("pandas", "steps=range(100, 110)"),
    "steps=range(100, 110), polars": ("polars", "steps=range(100, 110)"),
    "3 columns, workers=range(100), pandas": (
        "pandas", "columns=['step', 'agent', 'hours'], workers=range(100)"),
    "3 columns, workers=range(100), polars": (
        "polars", "columns=['step', 'agent', 'hours'], workers=range(100)"),
    "steps=199, polars": ("polars", "steps=199"),
}

# Runs in the fresh process: time from before the imports; the peak RSS is VmHWM, the
# process's own high-water mark (getrusage's ru_maxrss would keep this parent's peak across
# fork and exec).
PROBE = """
import sys, time
start = time.perf_counter()
import simulacra
frame = simulacra.Run(sys.argv[1], backend=sys.argv[2]).agents({args})
seconds = time.perf_counter() - start
status = open("/proc/self/status").read().split("VmHWM:")[1]
peak = int(status.split()[0]) / 1024
print(f"{{len(frame)}} {{seconds:.2f}} {{peak:.0f}}")
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", type=int, default=100_000)
    parser.add_argument("--steps", type=int, default=200)
    parser.add_argument("--dir", type=Path, default=None)
    a = parser.parse_args()
    import simulacra

    folder = a.dir or Path(tempfile.gettempdir()) / f"simulacra-agents-{a.workers}x{a.steps}"
    if not (folder / "summary.json").exists():
        simulacra.run(
            set={"simulation.num_agents": a.workers, "simulation.timesteps": a.steps,
                 "baselines.enabled": False},
            out=folder, force=True, progress=False,
        )
    run = simulacra.Run(folder)
    run.agents(steps=0)  # exports agents.parquet once, outside the measured cases
    size = (folder / "agents.parquet").stat().st_size
    print(f"{a.workers} workers x {a.steps} steps, agents.parquet {size / 1e6:.0f} MB")
    cases = dict(CASES)
    if a.workers <= 20_000:  # the whole table is only measured where it fits comfortably
        cases = {"whole table, pandas": ("pandas", ""), **cases}
    for label, (backend, args) in cases.items():
        out = subprocess.run(
            [sys.executable, "-c", PROBE.format(args=args), str(folder), backend],
            check=True, capture_output=True, text=True,
        ).stdout.split()
        rows, seconds, peak = out[-3:]
        print(f"{label:40} {int(rows):>9,} rows  {seconds} s  {peak} MB")


if __name__ == "__main__":
    main()
