"""Lab 2, reference solution: RON's own detection and path choice."""
from overlays.ron.routing import choose as ron_choose


def link_is_down(lost_in_row, dead_after):
    return lost_in_row >= 8


def choose(links, src, dst, members, current, metric="latency", hysteresis=0.1,
           loss_penalty_ms=500.0):
    return ron_choose(links, src, dst, members, current, metric, hysteresis, loss_penalty_ms)
