"""Lab 1: one AS's route ranking and export rules (see the lab's README.md).

The simulator (testbed/grading/bgp.py) calls these for every AS:

    rank(route, policy)               -> a sort key: the smallest wins
    export(route, neighbour, policy)  -> True to announce `route` to `neighbour`

route.dest          the destination AS
route.path          AS path from the neighbour it came from to dest (() for own routes)
route.neighbour     the AS it was learned from (None for own routes)
route.relationship  "customer", "peer" or "provider": what that neighbour is to us;
                    "origin" for our own route
route.local_pref    our local-pref for that neighbour (policy.local_pref, default 100)
neighbour.asn, neighbour.relationship  (what the neighbour is to us)
policy.asn, policy.local_pref (dict: neighbour AS -> pref), policy.no_export (tuple of ASes)
"""


def rank(route, policy):
    # TODO: Gao-Rexford: prefer routes from customers, then peers, then providers; within
    # a class the highest local-pref, then the shortest AS path, then the lowest neighbour
    # AS number. Our own route (relationship "origin") beats everything.
    return len(route.path)


def export(route, neighbour, policy):
    # TODO: own and customer routes go to everyone; peer and provider routes only to
    # customers (valley-free); nothing at all to a neighbour in policy.no_export.
    return True
