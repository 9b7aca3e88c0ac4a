"""Lab 2 (labs/routing-overlay): RON's failure detection and path choice. Your code.

The agent (overlays/ron/__main__.py) calls:

    link_is_down(lost_in_row, dead_after) -> bool
        after each probe loss to a peer: `lost_in_row` probes to it lost in a row (a reply
        resets it to 0), `dead_after` the experiment's knob (default 3). True marks the
        overlay link down; the next reply marks it up again.

    choose(links, src, dst, members, current, metric, hysteresis, loss_penalty_ms)
        every 0.1 s and after a link goes down, for each destination: the path to use,
        a tuple of members after `src` ending with `dst` (`(dst,)` is the direct path,
        `(m, dst)` goes through member m), or None when no path is usable.
        links[(a, b)] is a LinkEstimate(latency_ms, loss, up) of the overlay link a -> b
        (missing: nobody measured it lately); `current` the path in use (or None).

overlays/ron/routing.py has path_cost() and candidates() you may use.
"""
from overlays.ron.routing import LinkEstimate, Path  # noqa: F401  (what the arguments are)


def link_is_down(lost_in_row, dead_after):
    # TODO: RON declares a link dead after `dead_after` losses in a row; this waits far
    # longer, so failover is slow.
    return lost_in_row >= 20


def choose(links, src, dst, members, current, metric="latency", hysteresis=0.1,
           loss_penalty_ms=500.0):
    # TODO: pick the cheapest usable path among the direct one and every one-intermediate
    # path (by `metric`), keep `current` unless a candidate is better by more than
    # `hysteresis`, and return None when nothing is usable. This always goes direct.
    return (dst,)
