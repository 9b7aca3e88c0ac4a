"""Exit policies (pure, and free of the crypto modules, so that validating an experiment
does not load them): rules `accept|reject ADDR[/LEN]|*:PORT[-PORT]|*`, the first that
matches an address and port decides, none matching rejects (tor's exit-policy semantics,
IPv4 only)."""
from __future__ import annotations

import functools
import ipaddress
from typing import Optional, Sequence, Tuple


@functools.lru_cache(maxsize=4096)
def parse_rule(rule: str) -> Tuple[bool, Optional[ipaddress.IPv4Network], int, int]:
    """'accept|reject ADDR[/LEN]|*:PORT[-PORT]|*' -> (accept, network or None, lo, hi)."""
    verb, _, target = rule.strip().partition(" ")
    if verb not in ("accept", "reject"):
        raise ValueError(f"a rule starts with accept or reject, not {verb!r}")
    addr, sep, ports = target.strip().rpartition(":")
    if not sep:
        raise ValueError("a rule's target is ADDR:PORT (either may be *)")
    net = None if addr == "*" else ipaddress.IPv4Network(addr, strict=False)
    if ports == "*":
        lo, hi = 1, 65535
    else:
        a, _, b = ports.partition("-")
        lo, hi = int(a), int(b or a)
        if not 1 <= lo <= hi <= 65535:
            raise ValueError(f"ports {ports!r} out of 1..65535")
    return verb == "accept", net, lo, hi


def exit_policy_accepts(policy: Sequence[str], ip: str, port: int) -> bool:
    address = ipaddress.IPv4Address(ip)
    for rule in policy:
        accept, net, lo, hi = parse_rule(rule)
        if (net is None or address in net) and lo <= port <= hi:
            return accept
    return False
