"""A synthetic submission that does not parse."""


def choose(edges, client, now, routing)
    return None
