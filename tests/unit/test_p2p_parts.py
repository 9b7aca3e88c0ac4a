"""File sharing: the catalog, Gnutella's descriptors and Napster's messages (including
what hostile peers send), and both systems end to end on loopback addresses (no root)."""
import asyncio
import struct
import time

import pytest

from overlays.local import LocalDeployment
from overlays.p2p import P2PParams, check
from overlays.p2p import gnutella, napster
from overlays.p2p.analysis import metrics
from overlays.p2p.catalog import overlay, queries, shares


def test_replication_follows_popularity_and_every_agent_draws_the_same():
    peers = [f"p{i}" for i in range(30)]
    a = shares(peers, 100, 10, 1.0, 7)
    assert a == shares(list(reversed(peers)), 100, 10, 1.0, 7)
    copies = [sum(i in files for files in a.values()) for i in range(100)]
    assert copies[0] == 10 and copies[1] == 5 and copies[9] == 1 and min(copies) == 1
    assert queries("p1", 5, 100, 1.0, 7) == queries("p1", 5, 100, 1.0, 7)


def test_the_overlay_is_symmetric_and_each_peer_has_its_degree_at_least():
    peers = [f"p{i}" for i in range(40)]
    links = overlay(peers, 3, 1)
    assert all(len(n) >= 3 and p not in n for p, n in links.items())
    assert all(p in links[q] for p, n in links.items() for q in n)


def test_gnutella_descriptors_round_trip():
    d = gnutella.Descriptor(b"g" * 16, gnutella.QUERY, 7, 0, gnutella.query("file00001.mp3"))
    raw = d.pack()
    assert len(raw) == 23 + 2 + 14 and raw[16:19] == bytes([0x80, 7, 0])
    assert struct.unpack_from("<I", raw, 19)[0] == len(d.payload)
    assert gnutella.parse_query(d.payload) == "file00001.mp3"
    hit = gnutella.queryhit(6347, "10.1.1.2", [(1, 65536, "file00001.mp3"),
                                               (2, 10, "file00002.mp3")], bytes(16))
    assert gnutella.parse_queryhit(hit) == ("10.1.1.2", 6347, [(1, 65536, "file00001.mp3"),
                                                                (2, 10, "file00002.mp3")])

    async def read(data):
        reader = asyncio.StreamReader()
        reader.feed_data(data)
        reader.feed_eof()
        return await gnutella.read_descriptor(reader)
    assert asyncio.run(read(raw)) == d
    with pytest.raises(gnutella.ProtocolError):  # unknown type
        asyncio.run(read(raw[:16] + b"\x42" + raw[17:]))
    with pytest.raises(gnutella.ProtocolError):  # a payload no servent should buffer
        asyncio.run(read(struct.pack("<16sBBBI", bytes(16), 0x80, 7, 0, 1 << 30)))


def test_napster_messages_and_hostile_ones():
    assert napster.pack(napster.SEARCH, "x") == b"\x01\x00\xc8\x00x"
    assert napster.search_text('FILENAME CONTAINS "file1" MAX_RESULTS 5') == ("file1", 5)
    with pytest.raises(napster.ProtocolError):
        napster.search_text("rm -rf /")
    with pytest.raises(napster.ProtocolError):
        napster.pack(napster.SHARE, "x" * 5000)

    async def read(data):
        reader = asyncio.StreamReader()
        reader.feed_data(data)
        reader.feed_eof()
        return await napster.read(reader)
    with pytest.raises(napster.ProtocolError):
        asyncio.run(read(struct.pack("<HH", 60000, 200)))


def test_params_are_checked():
    problems = [m for _, m in check(P2PParams(system="napster"), ["a", "b"])]
    assert any("needs an index" in m for m in problems)
    problems = [m for _, m in check(P2PParams(system="gnutella", degree=4, ttls=[0]), ["a", "b"])]
    assert any("TTLs run" in m for m in problems) and any("4 neighbours" in m for m in problems)


def test_the_metrics_count_every_descriptor_of_a_query():
    records = [{"metric": "found", "value": 1, "ttl": 2, "qid": "aa"},
               {"metric": "found", "value": 0, "ttl": 2, "qid": "bb"},
               {"event": "messages", "sent": {"aa": 3, "bb": 1}},
               {"event": "messages", "sent": {"aa": 2}}]
    m = metrics(records, P2PParams(system="gnutella"))
    assert m["success.ttl2"] == 0.5 and m["messages_per_query.ttl2"] == 3.0


@pytest.mark.parametrize("system", ["gnutella", "napster"])
def test_search_and_download_end_to_end(tmp_path, system):
    peers = [f"p{i:02d}" for i in range(12)]
    params = {"system": system, "files": 40, "copies": 4, "queries": 4, "start_after": 1.5,
              "interval": 0.2, "timeout": 0.8, "degree": 3, "ttls": [1, 4]}
    if system == "napster":
        params["index"] = "idx"
    with LocalDeployment("overlays.p2p", params, peers + (["idx"] if system == "napster"
                                                          else []), tmp_path) as d:
        time.sleep(1.5 + 4 * 1.2 + 1.5)
        assert d.stop() < 2.0
        records = d.records()
    m = metrics(records, P2PParams.model_validate(params))
    downloads = [r["value"] for r in records if r.get("metric") == "downloaded"]
    assert downloads and all(downloads)  # every found file arrived whole
    assert not [r for r in records if r.get("event") in ("protocol_error", "connect_failed")]
    if system == "napster":
        assert m["success"] == 1.0 and m["messages_per_query"] < 8
    else:
        assert m["success.ttl4"] >= m["success.ttl1"]
        assert m["messages_per_query.ttl4"] > 2 * m["messages_per_query.ttl1"]


def test_a_servent_survives_hostile_peers():
    async def main():
        records: list = []
        me = {"name": "s", "ip": "127.70.0.1"}
        servent = gnutella.Servent(me, 16346, 16347, lambda c: [], lambda *a: None,
                                   records.append)
        await servent.start([])

        async def session(data: bytes) -> bytes:
            reader, writer = await asyncio.open_connection("127.70.0.1", 16346)
            writer.write(data)
            got = await asyncio.wait_for(reader.read(-1), 5)
            writer.close()
            return got
        assert await session(b"GET / HTTP/1.0\r\n\r\n" + bytes(8)) == b""  # not Gnutella
        huge = struct.pack("<16sBBBI", bytes(16), 0x80, 7, 0, 1 << 30)
        assert (await session(gnutella.CONNECT + huge)).startswith(gnutella.OK)
        garbage = struct.pack("<16sBBBI", bytes(16), 0x42, 1, 0, 0)
        await session(gnutella.CONNECT + garbage)
        whys = [r["why"] for r in records if r.get("event") == "protocol_error"]
        assert any("exceeds" in w for w in whys) and any("unknown" in w for w in whys)
        # still serving: a well-behaved peer's PING gets its PONG
        ping = gnutella.Descriptor(b"p" * 16, gnutella.PING, 1, 0, b"").pack()
        reader, writer = await asyncio.open_connection("127.70.0.1", 16346)
        writer.write(gnutella.CONNECT + ping)
        assert await reader.readexactly(len(gnutella.OK)) == gnutella.OK
        kinds = set()
        for _ in range(2):  # its own PING and the PONG to ours, in either order
            kinds.add((await gnutella.read_descriptor(reader)).kind)
        assert kinds == {gnutella.PING, gnutella.PONG}
        writer.close()
        await servent.close()
    asyncio.run(main())
