"""Catch-up: a frame that left a link late leaves the next links of its path that much
earlier, as far as their delays allow, so a path's delay stays what is configured.

Why: the emulator releases each frame at its time only while its CPU runs. On the 2-vCPU
project machine the hypervisor stops the emulator's virtual CPU for about 7 ms every 1-3
s (seen as a hole in that CPU's scheduler ticks, with no task of the guest running in
it); every frame waiting in the emulator then leaves up to 7 ms late, and a ping stream
over a 116 ms path had runs of 5-6 replies 4-7 ms late after each such stall: RTT std
0.7-0.8 ms against the 0.3 ms target, on about a third of internet-50's sample pairs. A
frame late by L on one link (release time to the moment it was sent) carries L as a
credit to the next link it enters in the same emulator process: that link admits it as
if it had arrived L earlier (its shaper's order and rate still hold, and a frame is never
sent before it arrived). What the next link's delay cannot absorb is late again there and
moves on to the link after it. Only the last link of a path,
or a path leaving this process's links, keeps a lateness it cannot pass on.

A frame is recognised from link to link by 20 bytes routers do not rewrite: its IPv4
source and destination and the first 12 bytes of its transport header (ports, sequence
and acknowledgement numbers; ICMP's type, checksum, identifier, sequence and the start of
its data); the MACs, the TTL and the header checksum change at each router. One slice:
the emulator pays for it on every frame while credits are held (~0.3 us, against ~11 us
for the rest of a frame's handling). Other frames (ARP, IPv6, IP options, a later
fragment) get no credit.
"""
from __future__ import annotations

from typing import Dict, Optional, Tuple

from .classes import plain_ipv4
from .window import Window

MIN_LATE = 0.0005  # s: below this a frame is on time (the polling loop's own lateness)
TTL = 0.1  # s: a credit not taken by then belongs to a frame that left this process


def identity(frame: bytes, at: int = 0) -> bytes:
    """What identifies the IPv4 frame starting at byte `at` across routers, or b"": from
    its source address (byte 26) to 12 bytes into its transport header (byte 34)."""
    if plain_ipv4(frame, at):
        return frame[at + 26:at + 46]
    return b""


class CatchUp:
    """Credits of late frames, by identity: `late` records one, `take` hands it on. Each
    credit remembers the link window (`window.Window`) it was late on: taken on, the
    lateness moved with the frame and that link counts it on time; never taken (its path
    left this process, or ended), it is that link's lateness, recorded when it expires."""

    def __init__(self, at: int = 0):
        self.at = at  # where the Ethernet frame starts in what the emulator reads (vnet)
        # identity -> (credit, expiry, the window of the link it was late on)
        self.credits: Dict[bytes, Tuple[float, float, Optional[Window]]] = {}
        self.frames = 0  # frames that brought a credit to a link (the stats)
        self.sweep_at = 0.0  # when to sweep out the expired credits next

    def late(self, frame: bytes, lateness: float, now: float,
             window: Optional[Window] = None) -> None:
        """`frame` was sent `lateness` s after its release time on the link of `window`."""
        key = identity(frame, self.at) if lateness >= MIN_LATE else b""
        if not key:  # on time, or not to be recognised on the next link: stays here
            if window is not None:
                window.lates.append(lateness)
            return
        if now >= self.sweep_at:  # once per TTL: at most a TTL's late frames are held
            self.expire(now)
            self.sweep_at = now + TTL
        previous = self.credits.get(key)
        if previous is not None and previous[2] is not None:  # the same identity again
            previous[2].lates.append(previous[0])
        self.credits[key] = (lateness, now + TTL, window)

    def take(self, frame: bytes, now: float) -> float:
        """The credit `frame` brings to the link it arrives on (0 if none), used up."""
        entry = self.credits.pop(identity(frame, self.at), None)
        if entry is None:
            return 0.0
        credit, expiry, window = entry
        if expiry <= now:
            if window is not None:
                window.lates.append(credit)
            return 0.0
        if window is not None:
            window.lates.append(0.0)  # its lateness moves on with it
        self.frames += 1
        return credit

    def expire(self, now: float) -> None:
        """Credits not taken by now are their links' lateness."""
        kept = {}
        for key, (credit, expiry, window) in self.credits.items():
            if expiry > now:
                kept[key] = (credit, expiry, window)
            elif window is not None:
                window.lates.append(credit)
        self.credits = kept
