"""A lab 2 submission that detects failures well but detours only when the direct link
is down (never for a faster path)."""


def link_is_down(lost_in_row, dead_after):
    return lost_in_row >= dead_after


def choose(links, src, dst, members, current, metric="latency", hysteresis=0.1,
           loss_penalty_ms=500.0):
    direct = links.get((src, dst))
    if direct is not None and direct.up:
        return (dst,)
    for m in sorted(members):
        if m in (src, dst):
            continue
        first, second = links.get((src, m)), links.get((m, dst))
        if first is not None and first.up and second is not None and second.up:
            return (m, dst)
    return None
