"""Traffic classes on a link, for transit accounting and the ISPs' reactions to overlays.

A class is an overlay deployment; a frame belongs to it when it is IPv4 TCP or UDP and its
destination port, else its source port, is one the deployment declared (its spec's
`ports`, those bound on the members' addresses). Everything else is `underlay`. Ports, not
a DSCP mark: the agents need no change, a real daemon (tor, nginx) is classified as well
as our Python agents, and it is what an ISP's middlebox sees. A deployment that shares a
port with ordinary traffic shares its class.

Per direction of a link, `ClassFilter` counts each class's bytes that crossed (what the
link's own loss and queue let through) and polices the classes an ISP throttles: a token
bucket of `rate` Mbit/s holding `burst_bytes(rate)` (10 ms of the rate, at least two
full frames), frames beyond it dropped, like tc's `police` action that the netem back
end uses; rate 0 blocks the class. Frames with IP options are `underlay`. Pure: no sockets,
the caller gives the time.
"""
from __future__ import annotations

from collections import defaultdict
from typing import Dict, Optional

UNDERLAY = "underlay"
FULL_FRAME = 1514
IPV4 = b"\x08\x00\x45"  # at byte 12: ethertype IPv4, then version 4 with a 20-byte header
L4 = (6, 17)  # TCP, UDP


def burst_bytes(rate_mbit: float) -> int:
    """The policer's bucket: 10 ms of the rate, at least two full frames."""
    return max(int(rate_mbit * 1e6 / 8 * 0.01), 2 * FULL_FRAME)


def plain_ipv4(frame: bytes, at: int = 0) -> bool:
    """Whether the Ethernet frame starting at byte `at` is IPv4 with a 20-byte header (no
    options) and not a later fragment: its transport header starts at byte at + 34."""
    return frame.startswith(IPV4, at + 12) and not (frame[at + 20] & 0x1F or frame[at + 21])


def port_key(frame: bytes, at: int = 0) -> bytes:
    """The source and destination port of the Ethernet frame starting at byte `at`, 4
    bytes as on the wire, if it is a plain_ipv4 TCP or UDP frame; else b"". Runs for every
    frame of a classified link: a slice and a few byte tests (a full parse costs 2-3 times
    as much, measured with bench/accounting.py)."""
    if plain_ipv4(frame, at) and frame[at + 23] in L4:
        return frame[at + 34:at + 38]
    return b""


def class_of(key: bytes, ports: Dict[int, str]) -> str:
    """A port key's class: the one owning its destination port, else its source port."""
    if len(key) != 4:
        return UNDERLAY
    return ports.get(key[2] << 8 | key[3]) or ports.get(key[0] << 8 | key[1]) or UNDERLAY


def classify(frame: bytes, ports: Dict[int, str]) -> str:
    return class_of(port_key(frame), ports)


class Policer:
    """A token bucket: `admit` says whether a frame of `size` bytes conforms."""

    def __init__(self, rate_mbit: float):
        self.rate_mbit = rate_mbit
        self.rate = rate_mbit * 1e6 / 8  # bytes per second
        self.burst = burst_bytes(rate_mbit)
        self.tokens = float(self.burst)
        self.last: Optional[float] = None

    def admit(self, now: float, size: int) -> bool:
        if self.rate <= 0:
            return False
        if self.last is not None:
            self.tokens = min(self.burst, self.tokens + (now - self.last) * self.rate)
        self.last = now
        if size > self.tokens:
            return False
        self.tokens -= size
        return True


class ClassFilter:
    """One direction of a link: classes by port, bytes per class, policers per class.

    Bytes are counted per port key and summed per class when read (`bytes`), so a frame
    costs a slice and a dictionary update; reading folds the keys away, keeping the
    table as small as one reading interval's flows."""

    def __init__(self) -> None:
        self.ports: Dict[int, str] = {}
        self.policers: Dict[str, Policer] = {}
        self.dropped: Dict[str, int] = defaultdict(int)
        self._by_key: Dict[bytes, int] = defaultdict(int)
        self._by_class: Dict[str, int] = defaultdict(int)

    @property
    def active(self) -> bool:
        return bool(self.ports)

    def police(self, cls: str, rate_mbit: Optional[float]) -> None:
        """Throttle `cls` to rate_mbit (0: block it; None: let it pass again)."""
        if rate_mbit is None:
            self.policers.pop(cls, None)
        else:
            self.policers[cls] = Policer(rate_mbit)

    def admit(self, now: float, frame: bytes, size: int, at: int = 0) -> Optional[bytes]:
        """The port key of the frame starting at byte `at` and putting `size` bytes on the
        wire, or None if its class's policer drops it."""
        key = port_key(frame, at)
        if self.policers:
            cls = class_of(key, self.ports)
            policer = self.policers.get(cls)
            if policer is not None and not policer.admit(now, size):
                self.dropped[cls] += 1
                return None
        return key

    def count(self, key: bytes, size: int) -> None:
        """A frame crossed (after the link's own loss and queue)."""
        self._by_key[key] += size

    @property
    def bytes(self) -> Dict[str, int]:
        """Class -> bytes that crossed so far."""
        for key, size in self._by_key.items():
            self._by_class[class_of(key, self.ports)] += size
        self._by_key.clear()
        return dict(self._by_class)
