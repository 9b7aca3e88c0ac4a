"""The controllers as child processes of the harness: the Ryu app for OpenFlow routers
(`testbed.control.launcher`) and the Linux routers' (`testbed.control.kernel_app`). Both
report the same JSON-line events."""
from __future__ import annotations

import json
import socket
import time
from pathlib import Path
from typing import Dict, Optional

from ..process import EventProcess, ProcessError, event_named

ControllerError = ProcessError
__all__ = ["ControllerError", "ControllerProcess", "KernelControllerProcess", "event_named"]


class ControllerProcess(EventProcess):
    name = "controller"

    def __init__(self, topology: Path, port: int, log_path: Path,
                 convergence_delay_ms: Optional[float] = None):
        self.port = port
        args = [str(topology), "--port", str(port)]
        if convergence_delay_ms is not None:
            args += ["--convergence-delay-ms", str(convergence_delay_ms)]
        super().__init__("testbed.control.launcher", args, log_path)

    def wait_listening(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise ProcessError(self.exited())
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.2):
                    return
            except OSError:
                time.sleep(0.02)
        raise ProcessError(f"the controller is not listening on port {self.port} after "
                           f"{timeout:.0f} s; its log: {self.log_path}")


class KernelControllerProcess(EventProcess):
    """Started before the routers' namespaces exist: it loads the topology and computes
    every route table (2-3 s on internet-200) while the harness makes them, then reads
    {router: PID in its namespace} on stdin (`routers`) and installs the routes."""
    name = "controller"

    def __init__(self, topology: Path, log_path: Path,
                 convergence_delay_ms: Optional[float] = None):
        args = [str(topology)]
        if convergence_delay_ms is not None:
            args += ["--convergence-delay-ms", str(convergence_delay_ms)]
        super().__init__("testbed.control.kernel_app", args, log_path, stdin=True)

    def routers(self, pids: Dict[str, int]) -> None:
        assert self.proc.stdin is not None
        try:
            self.proc.stdin.write(json.dumps(pids).encode() + b"\n")
            self.proc.stdin.close()
        except BrokenPipeError:
            self.proc.wait(5)
            raise ProcessError(self.exited()) from None
