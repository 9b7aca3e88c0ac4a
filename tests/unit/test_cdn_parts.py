"""The CDN overlay's pure parts: the edge cache against an independent simulation, the
catalog and popularity, the router's policies, Coral's clusters and store, and the
metrics from records."""
import random

import pytest
from hypothesis import given, settings, strategies as st

from overlays.cdn import CdnParams, Catalog, check
from overlays.cdn.analysis import metrics, oracle_hits
from overlays.cdn.cache import Cache, Entry
from overlays.cdn.catalog import Zipf, body, cache_bytes, flash_ids, sizes
from overlays.cdn.coral import Store, by_closeness, clusters, ident
from overlays.cdn.routing import Client, EdgeState, Router


def entry(size, expires=float("inf")):
    return Entry(b"", size, '"e"', "", expires)


def replay(trace, capacity, policy):
    cache, hits = Cache(capacity, policy), 0
    for key, size in trace:
        if cache.get(key) is not None:
            hits += 1
        else:
            cache.put(key, entry(size))
        assert cache.used <= capacity
        assert cache.used == sum(e.size for e in cache.entries.values())
    return hits


@settings(max_examples=200, deadline=None)
@given(st.lists(st.integers(0, 30), min_size=1, max_size=300), st.integers(1, 400),
       st.sampled_from(["lru", "lfu"]), st.integers(0, 2 ** 16))
def test_cache_hits_equal_the_independent_simulation(keys, capacity, policy, seed):
    rng = random.Random(seed)
    size_of = {k: rng.randint(1, 120) for k in range(31)}
    trace = [(str(k), size_of[k]) for k in keys]
    events = [("get", key, size) for key, size in trace]
    assert replay(trace, capacity, policy) == oracle_hits(events, capacity, policy)


def test_timed_oracle_stores_when_the_fetch_completes():
    # a fetch of b under way while a is asked again: a stays a hit (b not stored yet)
    events = [("get", "a", 10), ("put", "a", 10), ("get", "b", 10), ("get", "a", 10),
              ("get", "b", 10), ("put", "b", 10), ("get", "a", 10)]
    assert oracle_hits(events, 10, "lru") == 2  # a; b (waits for its fetch)
    instant = [e for e in events if e[0] == "get"]
    assert oracle_hits(instant, 10, "lru") == 0  # stored at arrival: b evicts a at once


def test_lru_and_lfu_evict_what_they_should():
    lru = Cache(30)
    for k in "abc":
        lru.put(k, entry(10))
    lru.get("a")
    assert lru.put("d", entry(10)) == ["b"]  # b is the least recently used
    lfu = Cache(30, "lfu")
    for k in "abc":
        lfu.put(k, entry(10))
    for _ in range(3):
        lfu.get("a")
    lfu.get("b")
    assert lfu.put("d", entry(10)) == ["c"]  # c was used least
    assert lfu.put("big", entry(31)) == [] and "big" not in lfu  # never fits


def test_freshness():
    e = entry(1, expires=10.0)
    assert e.fresh(9.9) and not e.fresh(10.0)


def test_catalog_is_deterministic_and_shaped_by_its_params():
    cat = Catalog(objects=2000, median_bytes=10_000, sigma=1.0, seed=3)
    a, b = sizes(cat), sizes(cat)
    assert a == b and len(a) == 2000
    assert 8_000 < sorted(a)[1000] < 12_500  # the lognormal's median
    assert max(sizes(Catalog(objects=500, size="pareto", max_bytes=50_000))) <= 50_000
    assert set(sizes(Catalog(objects=5, size="fixed", median_bytes=77))) == {77}
    assert len(body(3, 100_000)) == 100_000 and body(3, 50).startswith(b"object 3")
    assert cache_bytes("5%", 1000) == 50 and cache_bytes("1234", 10) == 1234
    assert flash_ids(Catalog(objects=10), 3) == [7, 8, 9]
    assert flash_ids(Catalog(objects=3), 10) == [1, 2]  # one object stays normal


def test_zipf_draws_follow_the_law():
    z, rng = Zipf(100, 1.0), random.Random(1)
    counts = [0] * 100
    n = 50_000
    for _ in range(n):
        counts[z.draw(rng)] += 1
    assert abs(sum(z.probability(i) for i in range(100)) - 1) < 1e-9
    for rank in (0, 1, 9):
        assert abs(counts[rank] / n - z.probability(rank)) < 0.01
    assert counts[0] > counts[1] > counts[9]


def edges():
    return [EdgeState("e1", "10.0.0.1", 100, last_report=0.0, rtt_ms={"10.9.0.1": 30.0}),
            EdgeState("e2", "10.0.0.2", 200, last_report=0.0, rtt_ms={"10.9.0.1": 10.0}),
            EdgeState("e3", "10.0.0.3", 300, last_report=0.0, rtt_ms={"10.9.0.1": 20.0})]


def router(policy, es=None, hops=None, threshold=100.0):
    return Router(es or edges(), policy, threshold, dead_after=1.5, as_hops=hops or {},
                  rng=random.Random(1))


def test_nearest_and_its_fallback_for_unmeasured_clients():
    r = router("nearest")
    assert r.choose(Client("10.9.0.1", 900), 1.0).name == "e2"
    seen = {r.choose(Client("10.8.0.1", None), 1.0).name for _ in range(3)}
    assert seen == {"e1", "e2", "e3"}  # nobody measured it: round-robin


def test_dead_edges_get_no_answers():
    es = edges()
    es[1].last_report = -5.0
    assert router("nearest", es).choose(Client("10.9.0.1", 1), 1.0).name == "e3"
    assert router("nearest", es).choose(Client("10.9.0.1", 1), 100.0) is None


def test_as_local_prefers_the_clients_as_then_fewest_as_hops():
    r = router("as-local", hops={300: {100: 1, 200: 3}, 400: {100: 2, 200: 2, 300: 4}})
    assert r.choose(Client("10.9.0.1", 300), 1.0).name == "e3"
    es = edges()[:2]
    r = router("as-local", es, hops={300: {100: 1, 200: 3}, 400: {100: 2, 200: 2}})
    assert r.choose(Client("10.9.0.1", 300), 1.0).name == "e1"  # one hop beats RTT
    assert r.choose(Client("10.9.0.1", 400), 1.0).name == "e2"  # a tie: the nearer


def test_round_robin_random_and_load_aware():
    r = router("round-robin")
    assert [r.choose(Client("x", 1), 1.0).name for _ in range(3)] == ["e2", "e3", "e1"]
    picks = {router("random").choose(Client("x", 1), 1.0).name for _ in range(1)}
    assert picks <= {"e1", "e2", "e3"}
    es = edges()
    es[1].load = 500.0
    assert router("load-aware", es).choose(Client("10.9.0.1", 1), 1.0).name == "e3"
    for e in es:
        e.load = 500.0 + int(e.name[1])
    assert router("load-aware", es).choose(Client("10.9.0.1", 1), 1.0).name == "e1"


def test_coral_clusters_nearest_first_and_xor_closeness():
    rtt = {"b": 10.0, "c": 40.0, "d": 90.0}
    got = clusters("a", rtt, [20, 60], ["a", "b", "c", "d"])
    assert got == [["a", "b"], ["a", "b", "c"], ["a", "b", "c", "d"]]
    assert clusters("a", {}, [20, 60], ["a", "b"]) == [["a", "b"]]
    nodes = ["n1", "n2", "n3", "n4"]
    order = by_closeness("/obj/1", nodes)
    key = ident("/obj/1")
    assert [ident(n) ^ key for n in order] == sorted(ident(n) ^ key for n in nodes)


def test_coral_store_is_sloppy():
    store = Store(max_values=2)
    assert store.put("k", "a") and store.put("k", "b") and store.put("k", "a")
    assert not store.put("k", "c")  # full: the putter spills to the next node
    assert store.get("k") == ["a", "b"] and store.get("other") == []


def params(**kw):
    return CdnParams.model_validate({"origin": "as1.h1", "router": "as1.h1",
                                     "edges": ["as2.h1"], "catalog": {"objects": 10,
                                                                      "size": "fixed",
                                                                      "median_bytes": 100},
                                     "cache": {"size": "20%"}, **kw})


def test_params_and_members():
    p = params()
    assert p.roles("as1.h1", ["as1.h1", "as2.h1", "as3.h1"]) == ["origin", "router"]
    assert p.client_names(["as1.h1", "as2.h1", "as3.h1"]) == ["as3.h1"]
    problems = list(check(params(edges=["as2.h1", "as2.h1", "as9.h1"]), ["as1.h1", "as2.h1"]))
    assert any("listed twice" in m for _, m in problems)
    assert any("'as9.h1' is not a member" in m for _, m in problems)
    assert any("no clients" in m for _, m in problems)
    with pytest.raises(ValueError, match="coral needs Python edges"):
        params(edge="nginx", coral={"enabled": True})


def test_metrics_from_records():
    p = params()
    recs = [{"host": "as2.h1", "edge_req": f"/obj/{o}", "seq": i + 1, "cache": c,
             "bytes": 100, "peer": False, **({"stored": 10 + i} if c == "miss" else {})}
            for i, (o, c) in enumerate([(1, "miss"), (1, "hit"), (2, "miss"), (1, "hit")])]
    recs += [{"host": "as1.h1", "origin_req": "/obj/1", "status": 200, "bytes": 100},
             {"host": "as1.h1", "origin_req": "/obj/2", "status": 200, "bytes": 100}]
    # a client whose requests fail from t=10 to 13 (answer expiring at 12.9), then succeed
    recs += [{"host": "as3.h1", "cdn_req": 1, "t": t + 0.1, "elapsed_ms": 100.0,
              **({"error": "timeout", "expires_in": 12.9 - t} if 10 <= t < 13 else
                 {"status": 200, "bytes": 100, "ttfb_ms": 5.0, "total_ms": 6.0})}
             for t in range(5, 20)]
    m = metrics(recs, p)
    assert m["hit_ratio"] == 0.5 and m["oracle_hit_ratio"] == 0.5
    assert m["oracle_gap_points"] == 0 and m["origin_requests"] == 2
    assert m["requests"] == 15 and m["failed"] == pytest.approx(3 / 15)
    assert m["outage_max_s"] == pytest.approx(3.0)
    assert m["recovery_lag_max_s"] == pytest.approx(0.1)
    assert m["ttfb_median_ms"] == 5.0 and m["ttfb_median_ms.as3"] == 5.0


def test_a_client_failing_to_the_end_had_the_longest_outage():
    # as3.h1 recovers after 3 s; as4.h1 fails from t=10 until its last request at t=19
    recs = [{"host": host, "cdn_req": 1, "t": t + 0.1, "elapsed_ms": 100.0,
             **({"error": "timeout"} if 10 <= t < end else
                {"status": 200, "bytes": 100, "ttfb_ms": 5.0, "total_ms": 6.0})}
            for host, end in (("as3.h1", 13), ("as4.h1", 99)) for t in range(5, 20)]
    m = metrics(recs, params())
    assert m["outage_max_s"] == pytest.approx(9.1)  # from 10.0 to the end of the last
    assert m["outage_mean_s"] == pytest.approx((3.0 + 9.1) / 2)
