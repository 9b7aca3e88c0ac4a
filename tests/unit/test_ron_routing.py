"""RON's path choice (overlays/ron/routing.py), hand-computed."""
import math

import pytest

from overlays.ron.routing import LinkEstimate, candidates, choose, path_cost

UP = True


def links(**spec):
    """a_b=(latency, loss, up) -> {(a, b): LinkEstimate}"""
    return {tuple(k.split("_")): LinkEstimate(*v) for k, v in spec.items()}


MEMBERS = ["a", "b", "c", "d"]


def test_candidates_are_direct_and_every_one_intermediate_path():
    assert candidates("a", "d", MEMBERS) == [("d",), ("b", "d"), ("c", "d")]


def test_latency_picks_the_faster_detour():
    est = links(a_d=(50, 0, UP), a_b=(10, 0, UP), b_d=(15, 0, UP), a_c=(5, 0, UP), c_d=(60, 0, UP))
    assert choose(est, "a", "d", MEMBERS, None) == ("b", "d")  # 25 < 50 < 65


def test_loss_metric_and_combined():
    est = links(a_d=(10, 0.2, UP), a_b=(20, 0.0, UP), b_d=(20, 0.01, UP))
    assert path_cost(est, "a", ("b", "d"), "loss", 500) == pytest.approx(0.01)
    assert choose(est, "a", "d", ["a", "b", "d"], None, metric="latency") == ("d",)
    assert choose(est, "a", "d", ["a", "b", "d"], None, metric="loss") == ("b", "d")
    # combined: 10 + 500*0.2 = 110 against 40 + 500*0.01 = 45
    assert choose(est, "a", "d", ["a", "b", "d"], None, metric="combined") == ("b", "d")


def test_a_down_or_unmeasured_link_makes_a_path_unusable():
    est = links(a_d=(10, 0, False), a_b=(20, 0, UP))  # b_d never measured
    assert path_cost(est, "a", ("d",), "latency", 500) == math.inf
    assert choose(est, "a", "d", ["a", "b", "d"], ("d",)) is None


def test_failover_ignores_hysteresis_when_the_current_path_breaks():
    est = links(a_d=(10, 0, False), a_b=(20, 0, UP), b_d=(20, 0, UP))
    assert choose(est, "a", "d", ["a", "b", "d"], ("d",)) == ("b", "d")


@pytest.mark.parametrize("detour,expected", [(9.5, ("d",)), (8.9, ("b", "d"))])
def test_hysteresis_keeps_the_current_path_unless_10_percent_better(detour, expected):
    est = links(a_d=(10, 0, UP), a_b=(detour / 2, 0, UP), b_d=(detour / 2, 0, UP))
    assert choose(est, "a", "d", ["a", "b", "d"], ("d",), hysteresis=0.1) == expected


def test_ties_prefer_the_direct_path():
    est = links(a_d=(10, 0, UP), a_b=(5, 0, UP), b_d=(5, 0, UP))
    assert choose(est, "a", "d", ["a", "b", "d"], None) == ("d",)
