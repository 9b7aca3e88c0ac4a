"""Divergence metrics on hand-computed cases, including empty and identical paths."""
import pytest

from testbed.measure.metrics import (collapse, inflation, jaccard_distance, latency_stretch,
                                     levenshtein, link_set, node_set, normalised_edit_distance)

P = ["r1", "r2", "r3", "r4"]
Q = ["r1", "r5", "r3", "r4"]


def test_latency_stretch_and_inflation():
    assert latency_stretch(30, 60) == 0.5  # the overlay halves the delay
    assert latency_stretch(60, 60) == 1.0
    assert inflation(5, 4) == 1.25
    with pytest.raises(ValueError):
        latency_stretch(10, 0)
    with pytest.raises(ValueError):
        inflation(3, -1)


def test_jaccard_on_router_and_link_sets():
    # routers: {1,2,3,4} vs {1,5,3,4}: 3 shared of 5 -> 1 - 3/5
    assert jaccard_distance(node_set(P), node_set(Q)) == pytest.approx(0.4)
    # links: {12,23,34} vs {15,53,34}: 1 shared of 5 -> 0.8
    assert jaccard_distance(link_set(P), link_set(Q)) == pytest.approx(0.8)
    assert jaccard_distance(set(), set()) == 0.0
    assert jaccard_distance(node_set(P), node_set(P)) == 0.0
    assert jaccard_distance({"a"}, set()) == 1.0


def test_link_set_is_direction_free():
    assert link_set(["a", "b", "c"]) == link_set(["c", "b", "a"])
    assert link_set(["a"]) == set() and link_set([]) == set()


def test_edit_distance():
    assert levenshtein(P, Q) == 1  # one substitution
    assert normalised_edit_distance(P, Q) == 0.25
    assert levenshtein("kitten", "sitting") == 3
    assert normalised_edit_distance([], []) == 0.0
    assert normalised_edit_distance(P, P) == 0.0
    assert normalised_edit_distance([], ["x", "y"]) == 1.0
    assert normalised_edit_distance([1, 2, 3], [1, 3]) == pytest.approx(1 / 3)  # one deletion


def test_collapse_router_path_to_as_path():
    path = ["as1.r1", "as1.r2", "as10.r1", "as10.r2", "as100.r1"]
    assert collapse(path, lambda r: int(r.split(".")[0][2:])) == [1, 10, 100]
    assert collapse([], str) == []
