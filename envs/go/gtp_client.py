"""A client for external Go Text Protocol engines: :class:`GTPClient` runs one as a subprocess and sends it
commands; :class:`GTPError` / :class:`GTPProcessError` report a ``?`` answer / an engine that is gone.

:class:`envs.go.gnugo.GnuGo` builds on it; our own engine (the server side) is `envs.go.gtp`.
"""

from __future__ import annotations

import os
import queue
import subprocess
import tempfile
import threading
from typing import IO, TypeVar

from deep_arena.envs.go.gtp_protocol import preprocess

__all__ = ["GTPClient", "GTPError", "GTPProcessError"]


class GTPError(RuntimeError):
    """An engine answered ``? message``. ``command`` is what was sent, ``message`` the engine's text."""

    def __init__(self, message: str, command: str = ""):
        super().__init__(f"{command!r} failed: {message}" if command else message)
        self.message = message
        self.command = command


class GTPProcessError(GTPError):
    """The engine process is gone (it exited, closed its output, or did not answer in time).

    ``returncode`` is its exit status if known; ``stderr`` the tail of what it wrote there.
    """

    def __init__(self, message: str, command: str = "", returncode: int | None = None, stderr: str = ""):
        super().__init__(message, command)
        self.returncode = returncode
        self.stderr = stderr


_EOF = object()
_Client = TypeVar("_Client", bound="GTPClient")


class GTPClient:
    """Drive an external GTP engine (a subprocess speaking GTP on stdin/stdout).

    Args:
        argv: the command line, e.g. ``["gnugo", "--mode", "gtp"]``.
        timeout: seconds to wait for each response (``None``: wait forever). A timeout raises
            :class:`GTPProcessError` and kills the engine, since its answers would no longer line up.
        cwd, env: passed to ``subprocess.Popen``.

    :meth:`send` returns the body of a ``=`` response, raises :class:`GTPError` for a ``?`` response and
    :class:`GTPProcessError` if the engine has died. The engine's stderr goes to a temporary file whose tail is
    quoted in that error. Use as a context manager, or call :meth:`close`.
    """

    def __init__(
        self,
        argv: list[str],
        timeout: float | None = None,
        cwd: str | os.PathLike[str] | None = None,
        env: dict[str, str] | None = None,
    ):
        if not argv:
            raise ValueError("argv must name a program")
        self.argv = [str(a) for a in argv]
        self.timeout = timeout
        self._stderr: IO[bytes] = tempfile.TemporaryFile()
        try:
            self._proc = subprocess.Popen(
                self.argv,
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=self._stderr,
                cwd=cwd,
                env=env,
                text=True,
                encoding="utf-8",
                errors="replace",
                bufsize=1,
                # its own session: a Ctrl-C in the terminal goes to the trainer, which stops cleanly and closes the
                # engine, instead of killing the engine in the middle of a game (it still exits at stdin's EOF)
                start_new_session=True,
            )
        except BaseException:
            self._stderr.close()
            raise
        self._lines: queue.Queue[object] = queue.Queue()
        self._reader = threading.Thread(target=self._read_stdout, name=f"gtp-reader-{self._proc.pid}", daemon=True)
        self._reader.start()
        self._closed = False

    def _read_stdout(self) -> None:
        """Background thread: forward the engine's stdout line by line, then an end-of-file marker."""
        stdout = self._proc.stdout
        assert stdout is not None
        try:
            for line in iter(stdout.readline, ""):
                self._lines.put(line)
        except (OSError, ValueError):
            pass
        finally:
            self._lines.put(_EOF)

    @property
    def alive(self) -> bool:
        """Whether the engine process is still running."""
        return not self._closed and self._proc.poll() is None

    def stderr_tail(self, limit: int = 2000) -> str:
        """The last ``limit`` characters the engine wrote to stderr."""
        try:
            self._stderr.flush()
            size = self._stderr.seek(0, os.SEEK_END)
            self._stderr.seek(max(0, size - limit))
            return self._stderr.read().decode("utf-8", "replace")
        except (OSError, ValueError):
            return ""

    def _died(self, command: str, what: str) -> GTPProcessError:
        try:
            code = self._proc.wait(timeout=1.0)
        except subprocess.TimeoutExpired:
            code = None
        tail = self.stderr_tail().strip()
        status = f"exit status {code}" if code is not None else "still running"
        message = f"GTP engine {self.argv[0]!r} {what} ({status})"
        if tail:
            message += f"; its stderr ends with:\n{tail}"
        return GTPProcessError(message, command, code, tail)

    def send(self, command: str) -> str:
        """Send one command; return the response body (without ``=``, id, or the final blank line).

        Multi-line bodies keep their inner newlines. Raises :class:`GTPError` on a ``?`` response,
        :class:`GTPProcessError` if the engine is gone or too slow, and ``ValueError`` for a command with a
        newline or one that is empty or only a comment (engines do not answer those, so waiting would hang).
        """
        if "\n" in command or "\r" in command:
            raise ValueError(f"a GTP command is one line, got {command!r}")
        if not preprocess(command):
            raise ValueError(f"{command!r} holds no command, so no engine would answer it")
        if self._closed:
            raise GTPProcessError(f"GTP engine {self.argv[0]!r} was closed", command)
        stdin = self._proc.stdin
        assert stdin is not None
        try:
            stdin.write(command + "\n")
            stdin.flush()
        except (BrokenPipeError, OSError, ValueError):
            raise self._died(command, "is not accepting commands") from None
        lines: list[str] = []
        while True:
            try:
                item = self._lines.get(timeout=self.timeout)
            except queue.Empty:
                self._kill()
                raise GTPProcessError(
                    f"GTP engine {self.argv[0]!r} gave no answer within {self.timeout} s; it was stopped", command
                ) from None
            if item is _EOF:
                self._lines.put(_EOF)  # later calls see the end too
                raise self._died(command, "closed its output before answering")
            line = str(item).rstrip("\r\n")
            if not lines and not line.strip():
                continue  # blank lines before a response are not part of it
            if lines and not line.strip():
                break
            lines.append(line)
        head = lines[0]
        if head[:1] not in ("=", "?"):
            raise GTPError(f"malformed response {chr(10).join(lines)!r}", command)
        first = head[1:].lstrip("0123456789").strip()
        parts = [first] + lines[1:]
        if not first and len(parts) > 1:
            parts = parts[1:]  # a multi-line answer such as showboard starts on the line after "="
        body = "\n".join(parts).rstrip()
        if head[0] == "?":
            raise GTPError(body, command)
        return body

    def _kill(self) -> None:
        if self._proc.poll() is None:
            self._proc.kill()
            try:
                self._proc.wait(timeout=5.0)
            except subprocess.TimeoutExpired:
                pass

    def close(self) -> None:
        """Ask the engine to ``quit`` and wait briefly, killing it if needed. Safe to call more than once."""
        if self._closed:
            return
        try:
            if self._proc.poll() is None:
                old_timeout = self.timeout
                self.timeout = 5.0
                try:
                    self.send("quit")
                except GTPError:
                    pass
                finally:
                    self.timeout = old_timeout
                try:
                    self._proc.wait(timeout=5.0)
                except subprocess.TimeoutExpired:
                    self._kill()
        finally:
            self._closed = True
            for stream in (self._proc.stdin, self._proc.stdout):
                try:
                    if stream is not None:
                        stream.close()
                except OSError:
                    pass
            self._stderr.close()

    def __enter__(self: _Client) -> _Client:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def __del__(self) -> None:
        if getattr(self, "_closed", True) is False and getattr(self, "_proc", None) is not None:
            try:
                self._kill()
            except Exception:
                pass
