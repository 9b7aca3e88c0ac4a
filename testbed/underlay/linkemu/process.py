"""The emulator as child processes of the harness, and their control requests.

`LinkEmulator` splits a network's links over several emulator processes: by default one
per CPU less one (they poll while frames are in flight: the rest of the machine keeps a
CPU), one fewer again beside the userspace OVS datapath, at least 1, at most
MAX_PROCESSES. A frame crosses every link of its path in the emulator, and one Python
process moves ~90,000 frames/s: one polling process carried TCP at 73-115 Mbit/s over 10
crossings on internet-50 while every TCP segment was a frame (two on two CPUs: 180-195,
with the RTTs spread by milliseconds); with a sender's 64 KB GSO frames carried whole
(vnet), 680 Mbit/s. Links are dealt out by position, so a long path's crossings
spread over all of them; a link lives in exactly one process, so its frames keep their
order.
"""
from __future__ import annotations

import json
import os
import socket
from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence

from ...process import EventProcess, ProcessError, event_named

MAX_PROCESSES = 8


def default_processes(reserved: int = 0) -> int:
    """The CPUs this process may run on less `reserved` (for another busy forwarder), at
    least 1 and at most MAX_PROCESSES."""
    return max(1, min(MAX_PROCESSES, len(os.sched_getaffinity(0)) - reserved))


class EmulatorProcess(EventProcess):
    name = "link emulator"

    def __init__(self, links: List[Dict[str, Any]], work_dir: Path, stem: str = "linkemu",
                 cpu: Optional[int] = None, poll_idle: bool = False,
                 kernel_threads_off: Sequence[int] = ()):
        self.control_path = work_dir / f"{stem}.sock"
        config = work_dir / f"{stem}.json"
        config.write_text(json.dumps({"control": str(self.control_path), "cpu": cpu,
                                      "poll_idle": poll_idle,
                                      "kernel_threads_off": list(kernel_threads_off),
                                      "links": links}))
        super().__init__("testbed.underlay.linkemu.emulator", [str(config)],
                         work_dir / f"{stem}.log")

    def wait_ready(self, timeout: float = 30) -> None:
        self.wait_for(event_named("ready"), timeout)

    def request(self, **request: Any) -> Dict[str, Any]:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
            sock.settimeout(5)
            try:
                sock.connect(str(self.control_path))
                sock.sendall((json.dumps(request) + "\n").encode())
                reply = json.loads(sock.makefile().readline())
            except (OSError, ValueError) as exc:
                raise ProcessError(f"the link emulator did not answer: {exc}; its log: "
                                   f"{self.log_path}") from None
        if not reply.get("ok"):
            raise ProcessError(f"the link emulator refused {request}: {reply.get('error')}")
        return reply


def placement(processes: int, cpus: Sequence[int]) -> List[Optional[int]]:
    """The CPU each emulator process is pinned to: the last ones. With as many processes
    as CPUs or more, none is pinned: they would share CPUs with each other."""
    cpus = sorted(cpus)
    if processes >= len(cpus):
        return [None] * processes
    return list(reversed(cpus[len(cpus) - processes:]))


class LinkEmulator:
    """Every emulated link of a network, over `processes` EmulatorProcesses; requests go
    to the process holding the link, and `stats` merges their answers. `poll_idle`: the
    CPUs of pinned processes may not halt (a virtual machine's): they poll even with no
    frame in flight. Where the processes are pinned, the first keeps the movable kernel
    threads off their CPUs while it runs (emulator.kernel_threads_off)."""

    def __init__(self, links: List[Dict[str, Any]], work_dir: Path, processes: int,
                 poll_idle: bool = False):
        n = max(1, min(processes, len(links)))
        pinned = placement(n, os.sched_getaffinity(0))
        own = [cpu for cpu in pinned if cpu is not None]  # kernel threads kept off these
        self.processes: List[EmulatorProcess] = []
        self.owner: Dict[int, EmulatorProcess] = {}
        try:
            for k in range(n):
                mine = links[k::n]
                proc = EmulatorProcess(mine, work_dir, "linkemu" if n == 1 else f"linkemu-{k}",
                                       pinned[k], poll_idle and pinned[k] is not None,
                                       own if k == 0 else ())
                self.processes.append(proc)
                self.owner.update({int(spec["id"]): proc for spec in mine})
        except BaseException:
            self.stop()
            raise

    @property
    def pids(self) -> List[int]:
        return [p.pid for p in self.processes]

    def wait_ready(self, timeout: float = 30) -> None:
        for proc in self.processes:
            proc.wait_ready(timeout)

    def stop(self) -> None:
        for proc in self.processes:
            proc.stop()

    def request(self, **request: Any) -> Dict[str, Any]:
        cmd = request.get("cmd")
        if cmd in ("set", "police"):
            return self._process_of(request["link"]).request(**request)
        if cmd == "classes":
            for proc in self.processes:
                mine = [i for i in request["links"] if self._process_of(i) is proc]
                if mine:
                    proc.request(**{**request, "links": mine})
            return {"ok": True}
        if cmd == "stats":
            return merge_stats([proc.request(cmd="stats") for proc in self.processes])
        if cmd == "busy":
            replies = [proc.request(cmd="busy") for proc in self.processes]
            return {"ok": True, "processes": [(r["busy_s"], r["cpu_s"]) for r in replies]}
        if cmd == "window":
            replies = [proc.request(cmd="window") for proc in self.processes]
            return {"ok": True, "links": {k: v for r in replies for k, v in r["links"].items()},
                    "processes": [(r["busy_s"], r["cpu_s"]) for r in replies]}
        raise ProcessError(f"unknown link emulator request {request!r}")

    def _process_of(self, link: Any) -> EmulatorProcess:
        try:
            return self.owner[int(link)]
        except (KeyError, ValueError):
            raise ProcessError(f"the link emulator has no link {link!r}") from None


def merge_stats(replies: List[Dict[str, Any]]) -> Dict[str, Any]:
    """The emulator processes' `stats` answers as one: links united, counts added, the
    release lateness averaged over every release."""
    releases = sum(r["late_ms"]["releases"] for r in replies)
    return {"ok": True, "links": {k: v for r in replies for k, v in r["links"].items()},
            "send_errors": sum(r["send_errors"] for r in replies),
            "receive_errors": sum(r["receive_errors"] for r in replies),
            "queued": sum(r["queued"] for r in replies),
            "caught_up": sum(r["caught_up"] for r in replies),
            "late_ms": {"mean": sum(r["late_ms"]["mean"] * r["late_ms"]["releases"]
                                    for r in replies) / max(releases, 1),
                        "max": max(r["late_ms"]["max"] for r in replies),
                        "releases": releases}}
