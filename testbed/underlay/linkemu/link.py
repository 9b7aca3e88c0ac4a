"""A Mininet link whose frames pass through the userspace emulator.

    node1:intf1 <-veth-> a  [emulator]  b <-veth-> node2:intf2

Nodes, OVS and the controller see ordinary ports (intf1, intf2); `a` and `b` stay in the
root namespace, where the emulator process reads and writes them.
"""
from __future__ import annotations

from typing import Any, Optional, Tuple

from mininet.link import Link
from mininet.util import makeIntfPair

from .names import emulator_ends


def _mac(index: int, side: int) -> str:
    return f"06:ee:{(index >> 16) & 0xff:02x}:{(index >> 8) & 0xff:02x}:{index & 0xff:02x}:0{side}"


class EmulatedLink(Link):
    def __init__(self, node1: Any, node2: Any, emu_index: int, **kwargs: Any):
        self.emu_index = emu_index
        super().__init__(node1, node2, **kwargs)

    def makeIntfPair(self, intfname1: str, intfname2: str, addr1: Optional[str] = None,
                     addr2: Optional[str] = None, node1: Any = None, node2: Any = None,
                     deleteIntfs: bool = True) -> None:
        a, b = emulator_ends(self.emu_index)
        # Both pairs are made from the node's own shell, which moves the emulator's end to
        # the root namespace ("netns 1"): ~1 ms each, where a fresh `ip` process per pair
        # (mininet's quietRun) cost ~10 ms. Mininet's helper sets MACs on both ends or none.
        makeIntfPair(intfname1, a, addr1, _mac(self.emu_index, 1) if addr1 else None,
                     node1, None, deleteIntfs=False)
        makeIntfPair(intfname2, b, addr2, _mac(self.emu_index, 2) if addr2 else None,
                     node2, None, deleteIntfs=False)
