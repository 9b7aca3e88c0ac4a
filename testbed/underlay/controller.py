"""The controller as a child process of the harness, and the events it reports.

It runs `python -m testbed.control.launcher` in its own session (a Ctrl-C in the terminal
reaches the harness, which then stops everything in order) and streams JSON-line events
on stdout; a reader thread collects them so callers can wait for one.
"""
from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional


class ControllerError(RuntimeError):
    pass


class ControllerProcess:
    def __init__(self, topology: Path, port: int, log_path: Path,
                 convergence_delay_ms: Optional[float] = None):
        self.port = port
        self.log_path = log_path
        self.events: List[Dict[str, Any]] = []
        self._cond = threading.Condition()
        self._log = open(log_path, "ab")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "testbed.control.launcher", str(topology), "--port", str(port)]
            + ([] if convergence_delay_ms is None else
               ["--convergence-delay-ms", str(convergence_delay_ms)]),
            stdout=subprocess.PIPE, stderr=self._log, start_new_session=True,
            env={**os.environ, "PYTHONUNBUFFERED": "1"})
        self._reader = threading.Thread(target=self._read, name="controller-events", daemon=True)
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

    def wait_for(self, predicate: Callable[[Dict[str, Any]], bool], timeout: float) -> Dict[str, Any]:
        """The first event matching predicate; raises ControllerError on exit or timeout."""
        deadline = time.monotonic() + timeout
        with self._cond:
            seen = 0
            while True:
                for event in self.events[seen:]:
                    if predicate(event):
                        return event
                seen = len(self.events)
                if self.proc.poll() is not None:
                    raise ControllerError(f"the controller exited with code {self.proc.returncode}; "
                                          f"its log: {self.log_path}")
                left = deadline - time.monotonic()
                if left <= 0:
                    raise ControllerError(f"no '{getattr(predicate, 'label', 'event')}' from the "
                                          f"controller within {timeout:.0f} s; its log: {self.log_path}")
                self._cond.wait(min(left, 0.5))

    def wait_listening(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise ControllerError(f"the controller exited with code {self.proc.returncode}; "
                                      f"its log: {self.log_path}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.2):
                    return
            except OSError:
                time.sleep(0.02)
        raise ControllerError(f"the controller is not listening on port {self.port} after "
                              f"{timeout:.0f} s; its log: {self.log_path}")

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
