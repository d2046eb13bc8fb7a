"""`simulacra view DIR --serve` in the background: one server per run folder, started on
demand, its URL read from the first line it prints, stopped on request or when Python exits."""

from __future__ import annotations

import atexit
import re
import subprocess
import threading
from pathlib import Path

from ._binary import SimulacraError, binary

# The line `view --serve` prints once it listens (src/view): "serving http://127.0.0.1:P/ ...".
_SERVING = re.compile(r"serving (http://\S+)")
_servers: dict[Path, tuple[subprocess.Popen, str]] = {}
_lock = threading.Lock()


def serve(run_dir: Path, port: int = 0) -> str:
    """The URL of the server for `run_dir` (started unless one already runs)."""
    if isinstance(port, bool) or not isinstance(port, int) or not 0 <= port <= 65535:
        raise SimulacraError(f"view: port is 0 (any free port) or 1..65535, not {port!r}")
    with _lock:
        running = _servers.get(run_dir)
        if running is not None and running[0].poll() is None:
            return running[1]
        cmd = [binary(), "view", str(run_dir), "--serve", f"--port={port}"]
        proc = subprocess.Popen(
            cmd,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
        assert proc.stdout is not None
        first = proc.stdout.readline().decode("utf-8", "replace")
        m = _SERVING.search(first)
        if not m:
            proc.kill()
            _, err = proc.communicate()
            errors = [
                line[len("error: ") :]
                for line in err.decode("utf-8", "replace").splitlines()
                if line.startswith("error: ")
            ]
            message = "\n".join(errors) or first.strip() or "view --serve stopped at start"
            raise SimulacraError(message, proc.returncode, cmd)
        # Its later output is not read: drained so the server never blocks on a full pipe.
        for stream in (proc.stdout, proc.stderr):
            threading.Thread(target=_discard, args=(stream,), daemon=True).start()
        _servers[run_dir] = (proc, m.group(1))
        return m.group(1)


def stop(run_dir: Path) -> None:
    with _lock:
        running = _servers.pop(run_dir, None)
    if running is not None:
        _end(running[0])


def _end(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def _discard(stream) -> None:
    for _ in iter(lambda: stream.read(65536), b""):
        pass


@atexit.register
def _stop_all() -> None:
    for proc, _ in list(_servers.values()):
        _end(proc)
    _servers.clear()
