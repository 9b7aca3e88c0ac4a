"""An ISP's throttle or block of a traffic class with Linux tc, for the netem back end
(the userspace emulator polices in its own process: linkemu.classes).

The same classes and the same token bucket as the emulator: at the sending interface's
egress (the clsact qdisc, so TCLink's htb and netem root qdiscs stay as they are), one u32
filter per declared port and field (destination port, then source port) sends the class's
packets to a chain of its own, where one filter polices them all to the rate (tc's
`police` action, bucket `classes.burst_bytes`) or drops them (block). One chain per class
gives each class one bucket per direction, whichever port field matched. Egress, not
ingress: Open vSwitch's userspace datapath reads its ports with packet sockets, which see
a packet before ingress tc could drop it.
"""
from __future__ import annotations

import re
import shlex
from typing import Optional, Sequence

from .linkemu.classes import burst_bytes

PRIO_BASE, CHAIN_BASE = 10, 100
CLEAR_STEPS = 3  # the script's first lines, clearing; their failures mean nothing to clear
FAILED = re.compile(r"Command failed -:(\d+)")


def police_script(dev: str, class_index: int, ports: Sequence[int],
                  rate_mbit: Optional[float]) -> str:
    """One `tc -batch` (one process: each costs milliseconds, tens of them under qemu's
    TCG) that makes `dev`'s egress police class `class_index` (its `ports`) to rate_mbit
    (0 blocks it), or lets it pass again (None). Its output goes to `failures`."""
    prio, chain = PRIO_BASE + class_index, CHAIN_BASE + class_index
    lines = [f"qdisc add dev {dev} clsact",
             f"filter del dev {dev} egress prio {prio}",
             f"filter del dev {dev} egress chain {chain}"]
    if rate_mbit is not None:
        action = "drop" if rate_mbit == 0 else \
            f"police rate {int(rate_mbit * 1e6)}bit burst {burst_bytes(rate_mbit)} " \
            "conform-exceed drop/ok"
        lines.append(f"filter add dev {dev} egress chain {chain} prio 1 protocol ip "
                     f"u32 match u32 0 0 action {action}")
        for port in ports:
            for field in ("dport", "sport"):
                lines.append(f"filter add dev {dev} egress prio {prio} protocol ip "
                             f"u32 match ip {field} {port} 0xffff action goto chain {chain}")
    quoted = " ".join(shlex.quote(line) for line in lines)
    return f"printf '%s\\n' {quoted} | tc -force -batch - 2>&1"


def failures(output: str) -> str:
    """What went wrong in the police script's output: "" if only clearing found nothing
    to clear (a first throttle of the class), else tc's messages."""
    failed = [int(n) for n in FAILED.findall(output)]
    return output.strip() if any(n > CLEAR_STEPS for n in failed) else ""
