"""`testbed clean`: undo what killed runs left, and nothing that belongs to anyone else.

First the registry (`runstate`): every run whose owner process is dead is removed as
recorded. Then a sweep for our names in case a registry file was lost: bridges named
like routers (`as<asn>.<name>`), interfaces named `tb<dpid>p<port>` / `tbh<n>` / `tbe<link>a|b` (emulator), Mininet
shells of such nodes and orphaned controllers, unless they belong to a live run.
"""
from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path
from typing import Iterator, List, Set

from . import runstate, teardown

BRIDGE_RE = re.compile(r"^as\d+\.[a-z][a-z0-9_-]*$")
INTF_RE = re.compile(r"^tb(\d+p\d+|h\d+|e\d+[ab])$")
SHELL_RE = re.compile(r"mininet:as\d+\.[a-z][a-z0-9_-]*$")
CONTROLLER_RE = re.compile(r"-m testbed\.(control\.launcher|control\.kernel_app|underlay\.linkemu\.emulator) ")


def clean() -> Iterator[str]:
    removed_any = False
    for data in runstate.leftovers():
        teardown.remove_all(data["bridges"], data["interfaces"], data["pids"])
        Path(data["_path"]).unlink(missing_ok=True)
        shutil.rmtree(runstate.STATE_DIR / str(data["pid"]), ignore_errors=True)
        removed_any = True
        yield (f"removed run {data['pid']} ({data['topology']}): {len(data['bridges'])} bridges, "
               f"{len(data['interfaces'])} interfaces, {len(data['pids'])} processes")
    for stale in runstate.stale_work_dirs():
        shutil.rmtree(stale, ignore_errors=True)
        removed_any = True
        yield f"removed the logs a failed run kept in {stale}"
    live = list(runstate.leftovers(include_live=True))
    live_bridges = {b for d in live for b in d["bridges"]}
    live_intfs = {i for d in live for i in d["interfaces"]}
    live_pids = {p for d in live for p in d["pids"]} | {d["pid"] for d in live}
    bridges = [b for b in _bridges() if BRIDGE_RE.match(b) and b not in live_bridges]
    intfs = [i for i in os.listdir("/sys/class/net") if INTF_RE.match(i) and i not in live_intfs]
    pids = [p for p in _our_processes() if p not in live_pids]
    if bridges or intfs or pids:
        teardown.remove_all(bridges, intfs, pids)
        removed_any = True
        yield (f"removed unregistered leftovers: {len(bridges)} bridges, {len(intfs)} interfaces, "
               f"{len(pids)} processes")
    if not removed_any:
        yield "nothing to clean"


def _bridges() -> List[str]:
    if not shutil.which("ovs-vsctl"):
        return []
    out = subprocess.run(["ovs-vsctl", "--timeout=5", "list-br"], capture_output=True, text=True)
    return out.stdout.split() if out.returncode == 0 else []


def _our_processes() -> Set[int]:
    pids: Set[int] = set()
    me = os.getpid()
    for entry in os.listdir("/proc"):
        if not entry.isdigit() or int(entry) == me:
            continue
        try:
            cmdline = Path(f"/proc/{entry}/cmdline").read_bytes().replace(b"\0", b" ").decode(
                errors="replace").strip()
        except OSError:
            continue
        if SHELL_RE.search(cmdline) or CONTROLLER_RE.search(cmdline + " "):
            pids.add(int(entry))
    return pids
