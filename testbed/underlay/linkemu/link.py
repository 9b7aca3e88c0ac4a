"""A Mininet link whose frames pass through the userspace emulator.

    node1:intf1 <-veth-> a  [emulator]  b <-veth-> node2:intf2

Nodes, OVS and the controller see ordinary ports (intf1, intf2); `a` and `b` stay in the
root namespace, where the emulator process reads and writes them. All the veth pairs of a
network are made beforehand in one `ip -batch` (`batch_commands`): one process instead of
one shell round trip per pair (540 for internet-50); the link only adopts them. The
emulator's ends get no IPv6 link-local address (`addrgenmode none`): the root namespace
keeps IPv6 on, and 2,258 ends on internet-200 each doing duplicate address detection,
router solicitation and multicast listener reports when the far end came up cost the
Linux routers' controller 2-3 s of its bring-up, and sent that noise into the links.
"""
from __future__ import annotations

from typing import Any, List, Optional

from mininet.link import Link

from .names import emulator_ends


def batch_commands(index: int, intf1: str, netns1: Optional[int], intf2: str,
                   netns2: Optional[int], per_segment: bool,
                   mac1: Optional[str] = None) -> List[str]:
    """`ip -batch` lines making link `index`'s two veth pairs, node ends in their network
    namespace (None: the root one) and taking no GSO frames if `per_segment` (vnet), and
    the emulator's ends up, without IPv6 addresses."""
    lines = []
    for end, intf, netns, mac in ((0, intf1, netns1, mac1), (1, intf2, netns2, None)):
        emu = emulator_ends(index)[end]
        peer = f"peer name {intf}" + (f" address {mac}" if mac else "") + \
            (" gso_max_segs 1" if per_segment else "") + (f" netns {netns}" if netns else "")
        lines += [f"link add name {emu} type veth {peer}", f"link set {emu} addrgenmode none",
                  f"link set {emu} up"]
    return lines


class EmulatedLink(Link):
    def makeIntfPair(self, intfname1: str, intfname2: str, addr1: Optional[str] = None,
                     addr2: Optional[str] = None, node1: Any = None, node2: Any = None,
                     deleteIntfs: bool = True) -> None:
        """The pairs exist already (batch_commands); nothing to make."""
