"""Lab 1, reference solution: Gao-Rexford ranking and export with local-pref and
no-export (the same rules as testbed/control/policy.py, without prefer/avoid)."""

CLASS = {"origin": 0, "customer": 1, "peer": 2, "provider": 3}


def rank(route, policy):
    return (CLASS[route.relationship], len(route.path),
            route.neighbour if route.neighbour is not None else -1)


def export(route, neighbour, policy):
    if neighbour.asn in policy.no_export:
        return False
    if route.relationship in ("origin", "customer"):
        return True
    return neighbour.relationship == "customer"
