"""Child processes of the harness that report JSON-line events on stdout.

Each runs `python -m <module> ...` in its own session (a Ctrl-C in the terminal reaches
the harness, which stops everything in order), with stderr in a log file. A reader thread
collects the events so callers can wait for one.
"""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional


class ProcessError(RuntimeError):
    pass


class EventProcess:
    name = "process"

    def __init__(self, module: str, args: List[str], log_path: Path, stdin: bool = False):
        """`stdin`: a pipe to the process's stdin (`proc.stdin`), for what the caller
        knows only after starting it; else none (/dev/null)."""
        self.log_path = log_path
        self.events: List[Dict[str, Any]] = []
        self._cond = threading.Condition()
        self._log = open(log_path, "ab")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", module, *args], stdout=subprocess.PIPE, stderr=self._log,
            stdin=subprocess.PIPE if stdin else subprocess.DEVNULL,
            start_new_session=True, env={**os.environ, "PYTHONUNBUFFERED": "1"})
        self._reader = threading.Thread(target=self._read, name=f"{self.name}-events", daemon=True)
        self._reader.start()

    @property
    def pid(self) -> int:
        return self.proc.pid

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for raw in self.proc.stdout:
            try:
                event = json.loads(raw)
            except ValueError:
                continue
            with self._cond:
                self.events.append(event)
                self._cond.notify_all()
        with self._cond:
            self._cond.notify_all()

    def exited(self) -> str:
        return f"the {self.name} exited with code {self.proc.returncode}; its log: {self.log_path}"

    def wait_for(self, predicate: Callable[[Dict[str, Any]], bool], timeout: float) -> Dict[str, Any]:
        """The first event matching predicate; raises ProcessError on exit or timeout."""
        deadline = time.monotonic() + timeout
        with self._cond:
            seen = 0
            while True:
                for event in self.events[seen:]:
                    if predicate(event):
                        return event
                seen = len(self.events)
                if self.proc.poll() is not None:
                    raise ProcessError(self.exited())
                left = deadline - time.monotonic()
                if left <= 0:
                    raise ProcessError(f"no '{getattr(predicate, 'label', 'event')}' from the "
                                       f"{self.name} within {timeout:.0f} s; its log: {self.log_path}")
                self._cond.wait(min(left, 0.5))

    def stop(self, timeout: float = 0.5) -> None:
        if self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, signal.SIGTERM)
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
            except ProcessLookupError:
                pass
        self._log.close()


def event_named(name: str) -> Callable[[Dict[str, Any]], bool]:
    def predicate(event: Dict[str, Any]) -> bool:
        return event.get("event") == name
    predicate.label = name  # type: ignore[attr-defined]
    return predicate


def proc_stat_fields(pid: int) -> Optional[List[str]]:
    """The fields of /proc/PID/stat after the command name (which may hold spaces and
    parentheses), from the state on: man 5 proc's field n is index n - 3. None if the
    process is gone."""
    try:
        with open(f"/proc/{pid}/stat", encoding="utf-8", errors="replace") as f:
            return f.read().rsplit(")", 1)[1].split()
    except OSError:
        return None


def process_cpu_seconds(pid: Optional[int]) -> float:
    """CPU seconds (user + system) a process has used so far; 0 if it is gone."""
    fields = proc_stat_fields(pid) if pid else None
    if fields is None:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime + stime
