"""Public tests of ron_policy.py (run: python -m pytest tests, next to your file)."""
from ron_policy import choose, link_is_down

from overlays.ron.routing import LinkEstimate

UP = dict(loss=0.0, up=True)


def links(**ms):
    """links(ab=10, bc=5): a->b 10 ms, b->c 5 ms (both directions)."""
    out = {}
    for name, value in ms.items():
        a, b = name
        latency, up = (value, True) if value is not None else (1.0, False)
        out[(a, b)] = out[(b, a)] = LinkEstimate(latency, 0.0, up)
    return out


def test_link_is_down_after_dead_after_losses():
    assert not link_is_down(2, 3)
    assert link_is_down(3, 3)


def test_detour_when_the_direct_link_is_down():
    assert choose(links(ab=None, ac=8, cb=8), "a", "b", ["a", "b", "c"], ("b",)) == ("c", "b")


def test_none_when_nothing_is_usable():
    assert choose(links(ab=None, ac=None, cb=8), "a", "b", ["a", "b", "c"], None) is None


def test_the_cheapest_path_direct_or_a_detour():
    assert choose(links(ab=10, ac=8, cb=8), "a", "b", ["a", "b", "c"], None) == ("b",)
    assert choose(links(ab=100, ac=10, cb=10), "a", "b", ["a", "b", "c"], None) == ("c", "b")
