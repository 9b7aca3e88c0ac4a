"""Lab 3 (labs/cdn-routing): the CDN's request routing, the decision Akamai's mapping
system makes for every DNS query: which edge serves this client now.

The request router (overlays/cdn/router.py) calls `choose` for each DNS query (and each
HTTP redirect) with what it knows of the edges from their reports. Each edge reports every
`routing.report_interval` (0.5 s): it is alive, its load, and the round-trip times it
measured with its own probes to every member of the CDN. An edge that crashed or lost its
network stops reporting.

Your file is `cdn_policy.py` in your submission; in the repository it is this file,
`overlays/cdnlab/policy.py`. Keep the function's name and signature; you may add helpers.
"""
from __future__ import annotations

from typing import List, Optional

from overlays.cdn import Routing
from overlays.cdn.routing import Client, EdgeState

# What you get (overlays/cdn/routing.py):
#   EdgeState: name (str), ip (str), asn (int),
#              last_report (float: time.monotonic() of its last report; -inf if none yet),
#              load (float: requests/s it served over the last second),
#              rtt_ms (dict: member ip -> RTT in ms the edge measured to it; a client the
#                      edge has not measured yet is missing)
#   Client:    ip (str), asn (int, or None for a host outside the CDN)
#   Routing:   dead_after (float, s), load_threshold (float, requests/s), and more


def choose(edges: List[EdgeState], client: Client, now: float,
           routing: Routing) -> Optional[EdgeState]:
    """The edge to send `client` to at time `now` (time.monotonic()), or None when no edge
    is alive (the router then answers SERVFAIL).

    1. Alive: an edge is alive if it reported no longer than `routing.dead_after` seconds
       ago (`now - edge.last_report <= routing.dead_after`). Never answer a dead edge.
    2. Not overloaded: among the alive edges, leave out those whose `load` is at or above
       `routing.load_threshold`, unless all of them are: then answer the least loaded.
    3. Nearest: of what is left, the edge with the lowest measured RTT to the client
       (`edge.rtt_ms[client.ip]`); ties go to the edge whose name sorts first.
    4. Unmeasured: if none of them has measured the client yet, any of them (the first).
    """
    # TODO: steps 1 to 4. The starter sends everyone to the first edge, dead or alive,
    # near or far.
    return edges[0] if edges else None
