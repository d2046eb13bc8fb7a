"""Finding the `simulacra` binary and running it: errors, progress and Ctrl-C.

The wheel puts the compiled binary in the environment's scripts folder (next to `python`);
`SIMULACRA_BIN` overrides it (a development build), and PATH is the last resort. Every call
goes through `call()`, which turns a failure into `SimulacraError` with the binary's own
message, shows progress, and on KeyboardInterrupt stops the child with SIGINT and waits, so
the run folder is left as a killed run leaves it: `simulacra resume` continues it.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
import sysconfig
import threading
from pathlib import Path
from typing import Sequence

# The binary's progress bars (indicatif templates in src/main.rs): "{bar} 250/1000 steps ..."
# and "{bar} 3/20 runs ...".
_PROGRESS = re.compile(r"(\d+)/(\d+) (steps|runs)\b")
_ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")
# How long a run may take to stop after SIGINT before it is killed.
_STOP_SECONDS = 10.0


class SimulacraError(RuntimeError):
    """The binary failed: `message` is what it printed (its `error: ...` line), `returncode`
    its exit status, `cmd` the command line and `stdout` what it printed there."""

    def __init__(
        self, message: str, returncode: int | None = None, cmd: Sequence[str] = (), stdout: str = ""
    ):
        super().__init__(message)
        self.message = message
        self.returncode = returncode
        self.cmd = list(cmd)
        self.stdout = stdout


def binary() -> str:
    """The path of the `simulacra` binary this package runs."""
    override = os.environ.get("SIMULACRA_BIN")
    if override:
        if not (os.path.isfile(override) and os.access(override, os.X_OK)):
            raise SimulacraError(f"SIMULACRA_BIN={override!r} is not an executable file")
        return override
    exe = "simulacra.exe" if os.name == "nt" else "simulacra"
    candidates = [Path(sysconfig.get_path("scripts")) / exe]
    user_scheme = f"{os.name}_user"
    if user_scheme in sysconfig.get_scheme_names():
        candidates.append(Path(sysconfig.get_path("scripts", user_scheme)) / exe)
    candidates.append(Path(sys.executable).parent / exe)
    for c in candidates:
        if c.is_file() and os.access(c, os.X_OK):
            return str(c)
    found = shutil.which("simulacra")
    if found:
        return found
    raise SimulacraError(
        "the simulacra binary was not found: it ships in the wheel's scripts folder "
        f"({candidates[0]}); reinstall the package, put `simulacra` on PATH, or set SIMULACRA_BIN"
    )


def call(args: Sequence[str], progress: bool = False, cwd: str | os.PathLike | None = None) -> str:
    """Runs `simulacra ARGS`; returns its stdout. Raises SimulacraError when it fails."""
    cmd = [binary(), *map(str, args)]
    use_pty = progress and os.name == "posix"
    if use_pty:
        import pty  # POSIX only

        master, slave = pty.openpty()
        _set_width(slave)
        stderr_target: int = slave
    else:
        stderr_target = subprocess.PIPE
    env = None
    if use_pty and os.environ.get("TERM", "dumb") == "dumb":
        # The binary draws its bar only on a terminal that can move the cursor; the
        # pseudo-terminal is one, whatever the caller's TERM (unset in Jupyter, cron, CI).
        env = {**os.environ, "TERM": "xterm"}
    try:
        proc = subprocess.Popen(
            cmd,
            stdout=subprocess.PIPE,
            stderr=stderr_target,
            stdin=subprocess.DEVNULL,
            cwd=cwd,
            env=env,
            # Its own process group: Ctrl-C reaches Python only, which stops the child itself
            # (the same way in a terminal and in a Jupyter kernel).
            start_new_session=True,
        )
    except OSError as e:
        if use_pty:
            os.close(master)
            os.close(slave)
        raise SimulacraError(f"cannot start {cmd[0]}: {e}") from e
    err_chunks: list[str] = []
    out_chunks: list[bytes] = []
    threads = [threading.Thread(target=_drain, args=(proc.stdout, out_chunks), daemon=True)]
    if use_pty:
        os.close(slave)
        threads.append(threading.Thread(target=_follow, args=(master, err_chunks), daemon=True))
    else:
        threads.append(
            threading.Thread(target=_collect, args=(proc.stderr, err_chunks), daemon=True)
        )
    for t in threads:
        t.start()
    try:
        # Short waits in a loop rather than one blocking waitpid: a SIGINT delivered to
        # another thread still raises KeyboardInterrupt here promptly.
        while True:
            try:
                code = proc.wait(timeout=0.1)
                break
            except subprocess.TimeoutExpired:
                pass
    except KeyboardInterrupt:
        _stop(proc)
        raise
    finally:
        for t in threads:
            t.join(timeout=5)
        if use_pty:
            try:
                os.close(master)
            except OSError:
                pass
    stderr = _ANSI.sub("", "".join(err_chunks))
    stdout = b"".join(out_chunks).decode("utf-8", "replace")
    if code != 0:
        raise SimulacraError(_message(stderr, stdout, code), code, cmd, stdout)
    return stdout


def _stop(proc: subprocess.Popen) -> None:
    """SIGINT, then wait; a run ends at once (its log is flushed step by step and `resume`
    cuts a torn tail), kill only if it does not."""
    if proc.poll() is not None:
        return
    try:
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=_STOP_SECONDS)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
    except KeyboardInterrupt:  # a second Ctrl-C: do not wait any longer
        proc.kill()
        proc.wait()
        raise


def _message(stderr: str, stdout: str, code: int) -> str:
    lines = [line.strip() for line in stderr.replace("\r", "\n").splitlines()]
    lines = [line for line in lines if line and not _PROGRESS.search(line)]
    errors = [line[len("error: ") :] for line in lines if line.startswith("error: ")]
    if errors:
        return "\n".join(errors)
    if lines:
        return "\n".join(lines[-20:])
    if stdout.strip():
        return stdout.strip().splitlines()[-1]
    return f"simulacra exited with status {code}"


def _drain(stream, chunks: list[bytes]) -> None:
    for block in iter(lambda: stream.read(65536), b""):
        chunks.append(block)
    stream.close()


def _collect(stream, chunks: list[str]) -> None:
    for block in iter(lambda: stream.read(65536), b""):
        chunks.append(block.decode("utf-8", "replace"))
    stream.close()


def _set_width(fd: int) -> None:
    """A wide terminal, so the bar's counters are never cut off."""
    try:
        import fcntl
        import struct
        import termios

        fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 160, 0, 0))
    except (ImportError, OSError):
        pass


def _follow(master: int, chunks: list[str]) -> None:
    """Reads the binary's stderr from the pseudo-terminal: progress counters drive a bar (tqdm
    when installed, else a line every 10%); everything else is passed through to sys.stderr."""
    bar = _Bar()
    pending = ""
    try:
        while True:
            try:
                data = os.read(master, 65536)
            except OSError:  # EIO: the child closed its end
                break
            if not data:
                break
            text = data.decode("utf-8", "replace")
            chunks.append(text)
            pending += _ANSI.sub("", text)
            *done, pending = re.split(r"[\r\n]", pending)
            for piece in done:
                _line(piece, bar)
            m = _PROGRESS.search(pending)
            if m:
                bar.update(int(m.group(1)), int(m.group(2)), m.group(3))
        if pending:
            _line(pending, bar)
    finally:
        bar.close()


def _line(piece: str, bar: "_Bar") -> None:
    m = _PROGRESS.search(piece)
    if m:
        bar.update(int(m.group(1)), int(m.group(2)), m.group(3))
    elif piece.strip() and not piece.startswith("error: "):
        # (the error line becomes the SimulacraError)
        sys.stderr.write(piece.rstrip() + "\n")
        sys.stderr.flush()


class _Bar:
    def __init__(self) -> None:
        self._tqdm = None
        self._shown = -1

    def update(self, done: int, total: int, unit: str) -> None:
        try:
            import warnings

            with warnings.catch_warnings():
                # tqdm.auto falls back to the text bar (with a warning) without ipywidgets.
                warnings.simplefilter("ignore")
                from tqdm.auto import tqdm
        except ImportError:
            tenth = done * 10 // max(total, 1)
            if tenth != self._shown:
                self._shown = tenth
                sys.stderr.write(f"simulacra: {done}/{total} {unit}\n")
                sys.stderr.flush()
            return
        if self._tqdm is None:
            self._tqdm = tqdm(total=total, unit=unit[:-1], desc="simulacra")
        self._tqdm.n = done
        self._tqdm.refresh()

    def close(self) -> None:
        if self._tqdm is not None:
            self._tqdm.close()
