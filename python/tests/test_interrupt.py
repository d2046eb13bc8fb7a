"""Ctrl-C during `simulacra.run`: the child is stopped (SIGINT, then waited for), the Python
caller gets KeyboardInterrupt, and the folder resumes to the same log as an uninterrupted run."""

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import simulacra

# Long enough to be caught in the middle on a busy 2-core machine (a few seconds), with a
# log of about 16 kB per step (every worker's hours).
BIG = {
    "simulation.num_agents": 2000,
    "simulation.timesteps": 1000,
    "workers.policy": "bounded",
    "baselines.enabled": False,
}


def _children_running(out: Path) -> list[int]:
    """Processes of the binary still working on `out` (Linux /proc)."""
    pids = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            argv = (proc / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if Path(os.fsdecode(argv[0])).name.startswith("simulacra") and os.fsencode(out) in argv:
            pids.append(int(proc.name))
    return pids


def test_ctrl_c_stops_the_run_and_resume_finishes_it(tmp_path):
    out = tmp_path / "interrupted"
    script = textwrap.dedent(
        f"""
        import sys
        sys.path[:0] = {sys.path!r}
        import simulacra
        try:
            simulacra.run(set={BIG!r}, out={str(out)!r}, progress=False)
        except KeyboardInterrupt:
            print("interrupted", flush=True)
            sys.exit(130)
        print("finished", flush=True)
        """
    )
    py = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    log = out / "run.log"
    deadline = time.monotonic() + 120
    while not (log.is_file() and log.stat().st_size > 1_000_000):
        assert py.poll() is None, "the run ended before it could be interrupted"
        assert time.monotonic() < deadline
        time.sleep(0.02)
    py.send_signal(signal.SIGINT)  # what Ctrl-C (or a Jupyter interrupt) sends to Python
    stdout, _ = py.communicate(timeout=60)
    assert stdout.strip() == "interrupted" and py.returncode == 130
    assert _children_running(out) == []
    assert not (out / "summary.json").exists()

    run = simulacra.load(out).resume(progress=False)
    assert run.summary["steps_run"] == 1000 and len(run.steps) == 1000

    # The resumed log is byte for byte the log of the same run left alone.
    args = [simulacra.binary(), "run", "--quiet", "--out", str(tmp_path / "whole")]
    for k, v in BIG.items():
        args += ["--set", f"{k}={json.dumps(v) if isinstance(v, str) else str(v).lower()}"]
    subprocess.run(args, check=True, capture_output=True)
    whole = json.loads((tmp_path / "whole" / "summary.json").read_text())
    assert run.summary["log_sha256"] == whole["log_sha256"]
    assert (out / "run.log").read_bytes() == (tmp_path / "whole" / "run.log").read_bytes()
