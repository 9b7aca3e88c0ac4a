"""Remove what a run created, fast: one OVS transaction, one `ip -batch`, process groups.

Mininet's own stop deletes links one by one (~14 s for 120 switches and 100 hosts here);
killing the node shells drops their namespaces, which takes the host veths with them, the
veths left in the root namespace go in a single `ip -batch` call, and OVS deletes its
bridges meanwhile.
Used both by a normal stop and by `testbed clean` on what a killed run left.
"""
from __future__ import annotations

import os
import signal
import subprocess
import time
from typing import Iterable, List

from .runstate import pid_alive


def kill_groups(pids: Iterable[int], grace: float = 1.0) -> None:
    """SIGHUP then SIGKILL each process group (our children are session leaders).

    SIGHUP, not SIGTERM: Mininet's node shells are interactive bash, which ignores SIGTERM."""
    pids = [p for p in pids if p and p > 1]
    for pid in pids:
        _signal_group(pid, signal.SIGHUP)
    deadline = time.monotonic() + grace
    while time.monotonic() < deadline and any(_alive(p) for p in pids):
        time.sleep(0.02)
    for pid in pids:
        if _alive(pid):
            _signal_group(pid, signal.SIGKILL)
    deadline = time.monotonic() + grace
    while time.monotonic() < deadline and any(_alive(p) for p in pids):
        time.sleep(0.02)


def _signal_group(pid: int, sig: int) -> None:
    try:
        os.killpg(pid, sig)
    except (ProcessLookupError, PermissionError):
        try:
            os.kill(pid, sig)
        except (ProcessLookupError, PermissionError):
            pass


def _alive(pid: int) -> bool:
    try:
        os.waitpid(pid, os.WNOHANG)  # reap our own children so they do not linger
    except ChildProcessError:
        pass
    return pid_alive(pid)


def delete_bridges(bridges: List[str]) -> "subprocess.Popen[bytes] | None":
    """Start deleting the bridges in one OVS transaction; the caller waits for it."""
    if not bridges:
        return None
    cmd = ["ovs-vsctl", "--timeout=60"]
    for bridge in bridges:
        cmd += ["--", "--if-exists", "del-br", bridge]
    return subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def delete_interfaces(names: List[str]) -> None:
    """Delete those of `names` that exist in the root namespace, in one ip call."""
    existing = set(os.listdir("/sys/class/net"))
    todo = [n for n in names if n in existing]
    if todo:
        subprocess.run(["ip", "-force", "-batch", "-"], input="".join(f"link del {n}\n" for n in todo),
                       text=True, capture_output=True)


def remove_all(bridges: List[str], interfaces: List[str], pids: List[int]) -> None:
    """Bridge deletion (userspace OVS: ~8 s for 118 bridges, in ovs-vswitchd) runs while
    the processes die and the veths go (~10 ms each in the kernel): the two overlap."""
    ovs = delete_bridges(bridges)
    kill_groups(pids)
    delete_interfaces(interfaces)
    if ovs is not None:
        ovs.wait()
    delete_interfaces(bridges)  # userspace datapath: a bridge's tap device, if left
