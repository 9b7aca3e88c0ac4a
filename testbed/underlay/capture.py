"""Packet capture into pcap files Wireshark opens: one tcpdump per captured link.

What can be captured (`testbed up --capture`, an experiment's `capture.at`):
- `all`: every link;
- a host (`as100.h1`): its access link;
- a router (`as20.r1`): every link it has;
- a link, by the two nodes at its ends (`[as20.r1, as200.r1]`; on the command line
  `as20.r1,as200.r1`).
Each link is captured once, at its `a` end's interface, in that node's namespace (a
host's or Linux router's own, the root namespace for an Open vSwitch bridge's port), so
the packets are the ones the node sends and receives there. With the userspace link
emulator that end is outside the emulated delay, so timestamps are the node's. Files:
`<capture dir>/<a node>_<b node>.pcap`; with `files` > 1 tcpdump keeps a ring of that many
files of `max_mb` each (`-C`/`-W`), the oldest overwritten, named `..._<k>.pcap` once there
is more than one (k: tcpdump's file number, not their age).
tcpdump runs as root (`-Z root`: the run directory is root's) in immediate mode, writing
each packet as it comes (`--immediate-mode -U`): a pcap is readable while the network is
up, and packets of the last second are not lost at the end (by default the kernel hands
packets over in blocks, up to a second late, and a block still open at SIGTERM is lost).
"""
from __future__ import annotations

import os
import re
import signal
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator, List, Sequence, Tuple, Union

from .emulation import link_ends
from ..model.diagnostics import did_you_mean
from ..model.network import Link, Network

Target = Union[str, Sequence[str]]  # "all", a node, or [a, b]


@dataclass(frozen=True)
class Point:
    link: Link
    node: str  # where tcpdump runs
    interface: str

    @property
    def label(self) -> str:
        return f"{self.link.a}_{self.link.b}"


def _point(net: Network, link: Link) -> Point:
    node, interface = link_ends(net, link)[0]
    return Point(link, node, interface)


def problems(net: Network, targets: Sequence[Target]) -> Iterator[Tuple[int, str, str]]:
    """(index, what is wrong, hint) for each target that names nothing in `net`."""
    nodes = set(net.hosts) | set(net.routers)
    adjacent = {frozenset((link.a, link.b)) for link in net.links}
    for i, t in enumerate(targets):
        if isinstance(t, str):
            if t != "all" and t not in nodes:
                yield i, f"no node '{t}' in {net.name}", \
                    did_you_mean(t, nodes) or "a host, a router, [a, b] or all"
            continue
        if len(t) != 2:
            yield i, "a link is the two nodes at its ends: [a, b]", ""
            continue
        unknown = [n for n in t if n not in nodes]
        for n in unknown:
            yield i, f"no node '{n}' in {net.name}", did_you_mean(n, nodes) or ""
        if not unknown and frozenset(t) not in adjacent:
            yield i, f"no link between {t[0]} and {t[1]}", "name two adjacent nodes"


def points(net: Network, targets: Sequence[Target]) -> List[Point]:
    """The links the targets name, each once, in the topology's order (targets checked
    with `problems` first)."""
    wanted = set()
    for t in targets:
        for link in net.links:
            if t == "all" or (isinstance(t, str) and t in (link.a, link.b)) or \
                    (not isinstance(t, str) and frozenset(t) == frozenset((link.a, link.b))):
                wanted.add(link.index)
    return [_point(net, link) for link in net.links if link.index in wanted]


def parse_cli(text: str) -> Target:
    """`--capture` argument: all, a node, or a link as `a,b`."""
    parts = [p.strip() for p in text.split(",")]
    return parts[0] if len(parts) == 1 else parts


class Capture:
    """tcpdump on each point while the network is up; `stop()` ends them and names the
    ring's files. A context manager."""

    def __init__(self, underlay: Any, folder: Path, pts: List[Point], max_mb: int = 20,
                 files: int = 2, snaplen: int = 0):
        self.underlay, self.folder, self.points = underlay, folder, pts
        self.max_mb, self.files, self.snaplen = max_mb, files, snaplen
        self.procs: List[subprocess.Popen] = []

    def __enter__(self) -> "Capture":
        self.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.stop()

    def start(self, ready_s: float = 5.0) -> None:
        """Start every tcpdump and wait until each listens (or `ready_s` passed), so that
        what follows is captured from its first packet."""
        self.folder.mkdir(parents=True, exist_ok=True)
        logs = []
        for p in self.points:
            argv = ["tcpdump", "-i", p.interface, "-n", "-U", "--immediate-mode", "-Z", "root",
                    "-s", str(self.snaplen), "-w", str(self.folder / f"{p.label}.pcap")]
            if self.files > 1:
                argv += ["-C", str(self.max_mb), "-W", str(self.files)]
            log_path = self.folder / f".{p.label}.log"
            with open(log_path, "wb") as log:
                self.procs.append(self.underlay.spawn(p.node, argv, stdout=subprocess.DEVNULL,
                                                      stderr=log, env=dict(os.environ),
                                                      cwd=str(self.folder)))
            logs.append(log_path)
        deadline = time.monotonic() + ready_s
        while time.monotonic() < deadline and not all(
                b"listening on" in path.read_bytes() for path in logs):
            time.sleep(0.05)

    def stop(self) -> List[Path]:
        """End the captures (tcpdump flushes on SIGTERM); the pcap files, renamed so each
        ends in .pcap; the logs go (kept in `.<label>.log` only when tcpdump failed)."""
        for proc in self.procs:
            try:
                os.killpg(proc.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
        for proc in self.procs:
            try:
                proc.wait(3)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
        self.procs = []
        made = []
        for p in self.points:
            log = self.folder / f".{p.label}.log"
            ring = sorted(self.folder.glob(f"{p.label}.pcap[0-9]*"),
                          key=lambda f: int(re.sub(r"\D", "", f.name.rsplit(".pcap", 1)[1])))
            for k, f in enumerate(ring):  # one file: the plain name
                suffix = f"_{k}" if len(ring) > 1 else ""
                made.append(f.rename(self.folder / f"{p.label}{suffix}.pcap"))
            if (self.folder / f"{p.label}.pcap").exists():
                made.append(self.folder / f"{p.label}.pcap")
            if made and log.exists() and b"listening on" in log.read_bytes():
                log.unlink()
        return made
