"""Hidden tests of ron_policy.py."""
from ron_policy import choose

from overlays.ron.routing import LinkEstimate


def est(ms):
    return LinkEstimate(ms, 0.0, True)


def test_hysteresis_keeps_the_current_path_for_a_small_gain():
    links = {("a", "b"): est(10), ("a", "c"): est(4.8), ("c", "b"): est(4.8)}
    assert choose(links, "a", "b", ["a", "b", "c"], ("b",), hysteresis=0.1) == ("b",)
    # and the detour in use stays when the direct path becomes a little better
    links = {("a", "b"): est(9.5), ("a", "c"): est(5), ("c", "b"): est(5)}
    assert choose(links, "a", "b", ["a", "b", "c"], ("c", "b"), hysteresis=0.1) == ("c", "b")


def test_unmeasured_links_are_unusable():
    links = {("a", "c"): est(1), ("c", "b"): est(1)}
    assert choose(links, "a", "b", ["a", "b", "c"], None) == ("c", "b")
    assert choose({("a", "b"): est(5)}, "a", "b", ["a", "b", "c"], None) == ("b",)


def test_loss_metric():
    links = {("a", "b"): LinkEstimate(1, 0.5, True), ("a", "c"): est(50), ("c", "b"): est(50)}
    assert choose(links, "a", "b", ["a", "b", "c"], None, metric="loss") == ("c", "b")
