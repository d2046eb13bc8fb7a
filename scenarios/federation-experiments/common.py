"""What the federation experiments share: their command line, playing one run (or reading it
back when it is already there), a mean with its 95 % interval, and a change in %."""
import json
import math
import statistics
import subprocess
import sys
from pathlib import Path


def arguments(out):
    """The command line every script takes, `[BIN] [OUT_DIR] [SEEDS] [WORKERS] [JOBS]`, with
    its defaults (`out` is the script's own folder): the binary, the folder, the seeds 1..N,
    the workers per run and the runs at once."""
    given = sys.argv[1:]

    def arg(i, default):
        return given[i] if len(given) > i else default

    return (
        arg(0, "target/release/simulacra"),
        Path(arg(1, out)),
        list(range(1, 1 + int(arg(2, 30)))),
        int(arg(3, 1000)),
        int(arg(4, 2)),
    )


def play(binary, out, sets, warnings=False):
    """`simulacra run --set ...` into `out`, unless a finished run (its summary.json) is
    already there; returns the summary. The run's messages are dropped (its warnings too
    unless `warnings`)."""
    if not (out / "summary.json").exists():
        args = [binary, "run", "--quiet", "--force", "--out", str(out)]
        for s in sets:
            args += ["--set", s]
        subprocess.run(args, check=True, stdout=subprocess.DEVNULL,
                       stderr=None if warnings else subprocess.DEVNULL)
    return json.loads((out / "summary.json").read_text())


def ci(xs, fmt="{:+.1f}"):
    """mean [low, high]: a 95 % interval of the mean (normal, 1.96 standard errors); one value
    alone as it is, none as "-"."""
    if len(xs) < 2:
        return fmt.format(xs[0]) if xs else "-"
    m = statistics.mean(xs)
    h = 1.96 * statistics.stdev(xs) / math.sqrt(len(xs))
    return f"{fmt.format(m)} [{fmt.format(m - h)}, {fmt.format(m + h)}]"


def pct(a, b):
    """a against b, in %."""
    return 100 * (a / b - 1)
