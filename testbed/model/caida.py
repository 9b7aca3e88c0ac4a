"""CAIDA AS-relationship files -> a topology (`testbed import caida FILE`).

The format (CAIDA's serial-1): one relationship per line, `<provider>|<customer>|-1` or
`<peer>|<peer>|0`; serial-2 adds a fourth field (where the relationship was inferred
from), which is ignored; lines starting with `#` are comments. Every problem is reported
with its line (and all of them at once, up to 50).

The topology has one router and one host per AS (`as<asn>.r1`, `as<asn>.h1`), links with
a delay (a parameter, default 5 ms) and the relationships as written. `--sample N` keeps N
ASes drawn with the seed and then every provider of a kept AS, transitively: a customer
keeps the providers its routes go up through, so the policy paths among the kept ASes are
the ones the whole graph would give them (peerings between kept ASes are kept too).
"""
from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import Dict, List, Optional, Set, Tuple

from .diagnostics import Diagnostic, InvalidInput, excerpt

MAX_PROBLEMS = 50
MAX_ASN = 4294967294


@dataclass
class ASGraphFile:
    provider_customer: List[Tuple[int, int]] = field(default_factory=list)
    peers: List[Tuple[int, int]] = field(default_factory=list)

    @property
    def asns(self) -> Set[int]:
        return {a for pair in self.provider_customer + self.peers for a in pair}


def parse(text: str, filename: str) -> ASGraphFile:
    graph = ASGraphFile()
    problems: List[Diagnostic] = []
    seen: Dict[Tuple[int, int], int] = {}

    def bad(number: int, col: int, message: str, hint: str = "") -> None:
        if len(problems) < MAX_PROBLEMS:
            problems.append(Diagnostic(filename, number, col, "", message, hint))

    for number, line in enumerate(text.splitlines(), 1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        fields = line.split("|")
        if len(fields) not in (3, 4):
            bad(number, 1, f"expected 'a|b|rel' (or a fourth source field), got "
                           f"{len(fields)} field(s): '{excerpt(line)}'",
                "CAIDA lines look like 3356|1299|0 or 174|7018|-1")
            continue
        asns = []
        for i, value in enumerate(fields[:2]):
            if not value.isdigit() or not 1 <= int(value[:12]) <= MAX_ASN:
                bad(number, line.index(value) + 1 if value else 1,
                    f"'{excerpt(value)}' is not an AS number (1 to {MAX_ASN})")
            else:
                asns.append(int(value))
        if fields[2] not in ("-1", "0"):
            bad(number, len(fields[0]) + len(fields[1]) + 3,
                f"relationship '{excerpt(fields[2])}' is neither -1 (provider|customer) nor 0 "
                "(peer|peer)")
            continue
        if len(asns) != 2:
            continue
        a, b = asns
        if a == b:
            bad(number, 1, f"AS {a} in a relationship with itself")
            continue
        key = (min(a, b), max(a, b))
        if key in seen:
            bad(number, 1, f"AS {a} and AS {b} already have a relationship (line {seen[key]})")
            continue
        seen[key] = number
        (graph.provider_customer if fields[2] == "-1" else graph.peers).append((a, b))
    if problems:
        raise InvalidInput(problems)
    if not graph.asns:
        raise InvalidInput([Diagnostic(filename, 0, 0, "", "no relationships in the file")])
    return graph


def sample(graph: ASGraphFile, n: Optional[int], seed: int) -> Set[int]:
    """N ASes drawn with the seed, closed upward over providers."""
    every = sorted(graph.asns)
    if n is None or n >= len(every):
        return set(every)
    providers: Dict[int, List[int]] = {}
    for p, c in graph.provider_customer:
        providers.setdefault(c, []).append(p)
    kept = set(random.Random(seed).sample(every, n))
    todo = list(kept)
    while todo:
        for p in providers.get(todo.pop(), []):
            if p not in kept:
                kept.add(p)
                todo.append(p)
    return kept


def topology(graph: ASGraphFile, kept: Set[int], name: str, delay_ms: float) -> Dict:
    pc = [(p, c) for p, c in graph.provider_customer if p in kept and c in kept]
    peers = [(a, b) for a, b in graph.peers if a in kept and b in kept]
    degree: Dict[int, int] = {a: 0 for a in kept}
    for a, b in pc + peers:
        degree[a] += 1
        degree[b] += 1
    # one address block per AS: room for its LAN (/24) and a /30 per link it numbers
    need = 256 + 4 * max(degree.values(), default=0) + 4
    length = 24
    while length > 8 and (1 << (32 - length)) < need:
        length -= 1
    if len(kept) + 1 > 1 << (length - 8):
        raise InvalidInput([Diagnostic("<import>", 0, 0, "", f"{len(kept)} ASes do not fit "
                                       "in 10.0.0.0/8 with room for their links",
                                       "sample fewer ASes (--sample N)")])
    return {
        "name": name,
        "description": f"{len(kept)} ASes of a CAIDA AS-relationship file; one router and one "
                       "host per AS; made by `testbed import caida`",
        "addressing": {"pool": "10.0.0.0/8", "as_prefix_len": length},
        "defaults": {"link": {"delay": f"{delay_ms:g}ms"}},
        "ases": [{"asn": a, "routers": ["r1"], "hosts": [{"name": "h1", "router": "r1"}]}
                 for a in sorted(kept)],
        "inter_as_links": [{"a": f"as{p}.r1", "b": f"as{c}.r1",
                            "relationship": "provider-customer"} for p, c in sorted(pc)] +
                          [{"a": f"as{a}.r1", "b": f"as{b}.r1", "relationship": "peer-peer"}
                           for a, b in sorted(peers)],
    }
