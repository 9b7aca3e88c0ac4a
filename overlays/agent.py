"""The contract's entry point, shared by every agent: `--config FILE`, JSON in, and SIGTERM
(or Ctrl-C) setting `running = False` so the agent's loop ends, flushes and returns
within the 2 s the harness allows; then every daemon the agent started is stopped.
Imports nothing of the harness."""
from __future__ import annotations

import argparse
import asyncio
import ctypes
import json
import os
import signal
import socket
import subprocess
import sys
import time
from typing import IO, Any, Callable, Dict, List, Optional, Sequence

PR_SET_PDEATHSIG = 1
_DAEMONS: List["Daemon"] = []


def main(make_agent: Callable[[Dict[str, Any]], Any], description: str) -> None:
    """Build the agent from its config file and run it until SIGTERM; then stop the
    daemons it started."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--config", required=True,
                        help="the agent's JSON config (overlays/README.md)")
    args = parser.parse_args()
    with open(args.config, encoding="utf-8") as f:
        config = json.load(f)

    agent: Any = None

    def stop(*_: Any) -> None:
        if agent is not None:
            agent.running = False
        else:  # still starting (e.g. waiting for a daemon): leave at once
            raise SystemExit(0)
    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    try:
        agent = make_agent(config)
        agent.run()
    finally:
        for daemon in reversed(_DAEMONS):
            daemon.stop()
    # The agent has closed its sockets and flushed its records: skip the interpreter's
    # teardown of every module (about 70 ms of CPU with cryptography and pydantic loaded),
    # which, when 70 agents stop at once on two cores, alone outlasts the 2 s allowed.
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)


class DaemonError(RuntimeError):
    pass


def _die_with_parent() -> None:
    """In the daemon, before exec: SIGTERM when the agent dies, even by SIGKILL."""
    ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


class Daemon:
    """A program an agent runs beside itself (tor, nginx, a tracker), supervised:

    - it runs in its own process group, so stopping it reaches everything it forked;
    - `start()` returns once it accepts connections on `ready_port` (TCP) at `ready_host`
      (or at once without one), and raises DaemonError, with its output's last lines, if
      it exits or is not ready within `timeout`;
    - `stop()` sends SIGTERM to the whole group, and SIGKILL to what is left after
      `grace` seconds, so it is gone within the 2 s the harness gives the agent;
    - it gets SIGTERM if the agent dies (PR_SET_PDEATHSIG), so it never outlives it.

    `main()` stops every daemon still running when the agent's `run()` returns.
    """

    def __init__(self, argv: Sequence[str], log: IO[bytes], ready_port: Optional[int] = None,
                 ready_host: str = "127.0.0.1", timeout: float = 10.0, grace: float = 1.0,
                 env: Optional[Dict[str, str]] = None, cwd: Optional[str] = None):
        self.argv, self.log = list(argv), log
        self.ready_port, self.ready_host = ready_port, ready_host
        self.timeout, self.grace, self.env, self.cwd = timeout, grace, env, cwd
        self.proc: Optional[subprocess.Popen] = None

    def start(self) -> "Daemon":
        self.proc = subprocess.Popen(self.argv, stdout=self.log, stderr=subprocess.STDOUT,
                                     stdin=subprocess.DEVNULL, start_new_session=True,
                                     preexec_fn=_die_with_parent, env=self.env, cwd=self.cwd)
        _DAEMONS.append(self)
        deadline = time.monotonic() + self.timeout
        while self.ready_port is not None:
            if self.proc.poll() is not None:
                raise DaemonError(f"{self.argv[0]} exited with code {self.proc.returncode} "
                                  "before it was ready")
            try:
                with socket.create_connection((self.ready_host, self.ready_port), timeout=0.2):
                    break
            except OSError:
                if time.monotonic() > deadline:
                    self.stop()
                    raise DaemonError(f"{self.argv[0]} did not listen on {self.ready_host}:"
                                      f"{self.ready_port} within {self.timeout:g} s") from None
                time.sleep(0.05)
        return self

    @property
    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def stop(self) -> None:
        """SIGTERM to the group, SIGKILL after `grace`; idempotent."""
        if self.proc is None:
            return
        pgid = self.proc.pid  # its own session: group id = its pid
        self._signal(pgid, signal.SIGTERM)
        try:
            self.proc.wait(self.grace)
        except subprocess.TimeoutExpired:
            pass
        self._signal(pgid, signal.SIGKILL)  # anything of the group still there
        self.proc.wait()
        if self in _DAEMONS:
            _DAEMONS.remove(self)

    @staticmethod
    def _signal(pgid: int, sig: int) -> None:
        try:
            os.killpg(pgid, sig)
        except (ProcessLookupError, PermissionError):
            pass


class Reporter:
    """JSON lines to the agent's output, flushed each (a crash loses nothing)."""

    def __init__(self, path: str):
        self.f = open(path, "a", encoding="utf-8")

    def __call__(self, record: Dict[str, Any]) -> None:
        self.f.write(json.dumps({"t": time.time(), **record}) + "\n")
        self.f.flush()

    def close(self) -> None:
        self.f.close()


class AsyncAgent:
    """Base of the agents whose roles share one asyncio loop (cdn, web, onion): `run()`
    runs the coroutine `main()` and closes the report file however it ends; `main()`
    awaits `until_stopped()` between starting its parts and stopping them."""

    def __init__(self, config: Dict[str, Any]):
        self.config = config
        self.me: Dict[str, Any] = config["host"]
        self.members: List[Dict[str, Any]] = [self.me, *config["peers"]]
        self.report = Reporter(config["output"])
        self.running = True

    def run(self) -> None:
        try:
            asyncio.run(self.main())
        finally:
            self.report.close()

    async def main(self) -> None:
        raise NotImplementedError

    async def until_stopped(self) -> None:
        """Returns once SIGTERM has set `running` to False."""
        while self.running:
            await asyncio.sleep(0.05)
