"""The CDN's HTTP, DNS and cache machinery on real sockets: its agents as local processes
on loopback addresses (overlays/local.py), no underlay and no root needed. The
emulated-Internet runs are in tests/integration/test_cdn.py."""
import http.client
import random
import socket
import subprocess
import time

import pytest
from dnslib import QTYPE, RCODE, DNSRecord

from overlays.cdn import CdnParams
from overlays.cdn.analysis import metrics
from overlays.cdn.catalog import Zipf, sizes
from overlays.local import LocalDeployment

PORTS = {"dns": 5399, "http": 18080, "origin": 18000, "redirect": 18053, "control": 17300}


def params(**kw):
    base = {"origin": "o", "router": "r", "edges": ["e"], "clients": [],
            "catalog": {"objects": 200, "max_age": 1}, "cache": {"size": "100%"},
            "ports": PORTS, "routing": {"ttl": 7}}
    return {**base, **kw}


def get(ip, path, host="o.cdn.test", port=PORTS["http"]):
    conn = http.client.HTTPConnection(ip, port, timeout=5)
    conn.request("GET", path, headers={"Host": host})
    r = conn.getresponse()
    return r, r.read()


def ask(ip, name, qtype="A"):
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.settimeout(2)
        s.sendto(DNSRecord.question(name, qtype).pack(), (ip, PORTS["dns"]))
        return DNSRecord.parse(s.recv(4096))


def wait_alive(cdn, patience=10.0):
    """Until the router answers with the edge (the edge reports once it can serve)."""
    deadline = time.monotonic() + patience
    while time.monotonic() < deadline:
        try:
            if ask(cdn.ip("r"), "cdn.test").rr:
                return
        except OSError:
            pass
        time.sleep(0.1)
    raise AssertionError("the CDN did not come up")


@pytest.fixture
def cdn(tmp_path):
    with LocalDeployment("overlays.cdn", params(), ["o", "r", "e"], tmp_path) as c:
        wait_alive(c)
        yield c


def test_edge_caches_revalidates_and_says_so(cdn):
    edge = cdn.ip("e")
    r, data = get(edge, "/obj/3")
    assert r.status == 200 and r.getheader("X-Cache") == "MISS"
    assert data.startswith(b"object 3") and len(data) == sizes(CdnParams.model_validate(
        params()).catalog)[3]
    etag = r.getheader("ETag")
    r, again = get(edge, "/obj/3")
    assert r.getheader("X-Cache") == "HIT" and again == data and r.getheader("ETag") == etag
    time.sleep(1.1)  # max-age 1: stale now
    r, again = get(edge, "/obj/3")
    assert r.getheader("X-Cache") == "REVALIDATED" and again == data
    r, _ = get(edge, "/obj/3", host="elsewhere.example")
    assert r.status == 404  # not an origin of this CDN
    origin = [x for x in cdn.records() if "origin_req" in x]
    assert [x["status"] for x in origin] == [200, 304]


def test_dns_answers_in_the_zone_only_and_survives_garbage(cdn):
    router = cdn.ip("r")
    reply = ask(router, "o.cdn.test")
    assert reply.header.rcode == RCODE.NOERROR
    assert [str(rr.rdata) for rr in reply.rr] == [cdn.ip("e")] and reply.rr[0].ttl == 7
    assert ask(router, "example.com").header.rcode == RCODE.REFUSED
    assert ask(router, "cdn.test", "AAAA").rr == []
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.sendto(b"\x00garbage", (router, PORTS["dns"]))
    assert ask(router, "cdn.test").rr  # still answering
    assert ask(router, "cdn.test").get_q().qtype == QTYPE.A


def test_redirector_sends_to_the_edge(cdn):
    r, _ = get(cdn.ip("r"), "/obj/5?x=1", port=PORTS["redirect"])
    assert r.status == 302
    assert r.getheader("Location") == f"http://{cdn.ip('e')}:{PORTS['http']}/obj/5?x=1"


def test_curl_follows_the_redirect_and_dig_asks_the_zone(cdn):
    """What a user tries from any host: curl -L to the redirector, dig at the router."""
    out = subprocess.run(["curl", "-sSL", "-H", "Host: o.cdn.test", "-o", "/dev/null", "-w",
                          "%{http_code} %{num_redirects} %{remote_ip}",
                          f"http://{cdn.ip('r')}:{PORTS['redirect']}/obj/4"],
                         capture_output=True, text=True, timeout=10)
    assert out.stdout == f"200 1 {cdn.ip('e')}", out.stderr
    dig = subprocess.run(["dig", "+short", "-p", str(PORTS["dns"]), f"@{cdn.ip('r')}",
                          "o.cdn.test"], capture_output=True, text=True, timeout=10)
    assert dig.stdout.split() == [cdn.ip("e")]


def replay(c, trace, gap):
    conn = http.client.HTTPConnection(c.ip("e"), PORTS["http"], timeout=5)
    for obj in trace:
        conn.request("GET", f"/obj/{obj}", headers={"Host": "o.cdn.test"})
        r = conn.getresponse()
        r.read()
        assert r.status == 200
        time.sleep(gap)


@pytest.mark.parametrize("edge", ["python", "nginx"])
def test_agents_stop_within_two_seconds(tmp_path, edge):
    c = LocalDeployment("overlays.cdn", params(edge=edge), ["o", "r", "e"], tmp_path).start()
    wait_alive(c)
    replay(c, [1, 2, 1], 0)
    assert c.stop() < 2.0
    assert all(p.returncode == 0 for p in c.procs.values())
    left = subprocess.run(["pgrep", "-f", str(tmp_path)], capture_output=True, text=True)
    assert not left.stdout.strip()  # nginx included


def test_nginx_and_python_edges_agree_on_the_same_trace(tmp_path):
    """Both edges on one request trace (Zipf 0.8 over 200 objects, a cache that holds the
    catalog): the same hits and misses, within 2 points. Not with a small cache: nginx
    enforces max_size only when its cache manager wakes (up to 10 s apart), so under a
    fast trace it holds far more than its budget (bench/cdn.py measures the gap)."""
    rng, z = random.Random(5), Zipf(200, 0.8)
    trace = [z.draw(rng) for _ in range(600)]
    ratios = {}
    for edge in ("python", "nginx"):
        p = params(edge=edge, catalog={"objects": 200, "max_age": 3600})
        with LocalDeployment("overlays.cdn", p, ["o", "r", "e"], tmp_path / edge) as c:
            wait_alive(c)
            replay(c, trace, 0.002)
        m = metrics(c.records(), CdnParams.model_validate(p))
        assert m["hit_ratio"] > 0.5
        assert m["edge_requests.e"] == len(trace)  # every request recorded, nginx's too
        ratios[edge] = m["hit_ratio"]
    assert abs(ratios["python"] - ratios["nginx"]) <= 0.02, ratios


def test_nginx_edge_revalidates_stale_objects(tmp_path):
    with LocalDeployment("overlays.cdn", params(edge="nginx"), ["o", "r", "e"], tmp_path) as c:
        wait_alive(c)
        statuses = [get(c.ip("e"), "/obj/7")[0].getheader("X-Cache") for _ in range(2)]
        time.sleep(2.2)  # max-age 1 (nginx counts whole seconds)
        statuses.append(get(c.ip("e"), "/obj/7")[0].getheader("X-Cache"))
    assert statuses == ["MISS", "HIT", "REVALIDATED"]
    assert [x["status"] for x in c.records() if "origin_req" in x] == [200, 304]
