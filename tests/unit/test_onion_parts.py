"""The Python onion router's parts: cells, the per-hop handshake and layers, the signed
consensus, exit policies, path selection, and whole circuits of real relays on loopback
addresses in one event loop (no root): what a middle relay can read, tampering, and 100
concurrent circuits through one relay."""
import asyncio
import random

import pytest
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey

from overlays.onion import OnionParams, check
from overlays.onion import cells
from overlays.onion.client import OnionProxy
from overlays.onion.crypto import ClientHandshake, HandshakeError, raw, server_handshake
from overlays.onion.directory import ConsensusError, Descriptor, authority_key, sign, verify
from overlays.onion.exitpolicy import exit_policy_accepts
from overlays.onion.path import NoPath, choose, choose_guard
from overlays.onion.relay import Relay


def test_cells_are_512_bytes_and_round_trip():
    cell = cells.pack(0x80000002, cells.RELAY, b"x" * 10)
    assert len(cell) == cells.CELL == 512
    assert cells.unpack(cell) == (0x80000002, cells.RELAY, b"x" * 10 + bytes(497))
    buffer = bytearray(cell * 2 + cell[:100])
    assert cells.split(buffer) == [cell, cell] and len(buffer) == 100
    relay = cells.Relay(cells.DATA, 7, b"hello")
    assert cells.parse_relay(relay.payload()) == relay
    with pytest.raises(cells.CellError):
        cells.Relay(cells.DATA, 1, bytes(cells.RELAY_DATA + 1)).payload()
    with pytest.raises(cells.CellError):
        cells.unpack(cell[:-1])


def hop() -> tuple:
    """(client's keys, relay's keys) of one handshake."""
    onion = X25519PrivateKey.generate()
    hs = ClientHandshake(raw(onion.public_key()))
    relay_keys, created = server_handshake(onion, hs.create())
    return hs.finish(created), relay_keys


def test_the_handshake_gives_both_sides_the_same_keys_and_only_the_named_relay_answers():
    mine, theirs = hop()
    sealed = mine.forward.seal(cells.Relay(cells.BEGIN, 1, b"a:1").payload())
    plain = theirs.forward.crypt(sealed)
    assert theirs.forward.recognise(plain)
    onion, other = X25519PrivateKey.generate(), X25519PrivateKey.generate()
    hs = ClientHandshake(raw(onion.public_key()))
    with pytest.raises(HandshakeError):  # the handshake names another relay
        server_handshake(other, hs.create())
    _, created = server_handshake(onion, hs.create())
    forged = created[:32] + bytes(32)
    with pytest.raises(HandshakeError):  # an authenticator only the key's holder can make
        hs.finish(forged)


def onion_of(n: int):
    pairs = [hop() for _ in range(n)]
    return [p[0] for p in pairs], [p[1] for p in pairs]


def wrap(client: list, relay: cells.Relay, to: int) -> bytes:
    payload = client[to].forward.seal(relay.payload())
    for keys in reversed(client[:to]):
        payload = keys.forward.crypt(payload)
    return payload


def test_only_the_addressed_hop_recognises_a_cell_and_each_layer_comes_off_in_turn():
    client, relays = onion_of(3)
    payload = wrap(client, cells.Relay(cells.BEGIN, 5, b"10.8.1.2:8080\0"), 2)
    for i, keys in enumerate(relays):
        payload = keys.forward.crypt(payload)
        assert keys.forward.recognise(payload) == (i == 2)
    assert cells.parse_relay(payload).data == b"10.8.1.2:8080\0"
    # backward: the exit seals, the others add their layers, the client peels to hop 2
    back = relays[2].backward.seal(cells.Relay(cells.DATA, 5, b"answer").payload())
    for keys in reversed(relays[:2]):
        back = keys.backward.crypt(back)
    for i, keys in enumerate(client):
        back = keys.backward.crypt(back)
        if keys.backward.recognise(back):
            break
    assert i == 2 and cells.parse_relay(back).data == b"answer"


def test_a_middle_relay_reads_neither_the_client_nor_the_destination():
    client_ip, dst = b"10.6.1.2", b"10.8.1.2:8080"
    client, relays = onion_of(3)
    seen = []  # what the middle holds after removing its own layer, for every cell
    for relay in (cells.Relay(cells.BEGIN, 1, dst + b"\0"),
                  cells.Relay(cells.DATA, 1, b"GET / HTTP/1.0\r\nFrom: " + client_ip)):
        payload = relays[0].forward.crypt(wrap(client, relay, 2))
        relays[0].forward.recognise(payload)
        mid = relays[1].forward.crypt(payload)
        assert not relays[1].forward.recognise(mid)
        seen.append(mid)
        relays[2].forward.recognise(relays[2].forward.crypt(mid))
    for view in seen:
        for secret in (client_ip, dst, b"GET /", bytes(map(int, client_ip.split(b".")))):
            assert secret not in view


def test_a_flipped_bit_is_not_recognised_where_the_cell_is_meant_to_be_read():
    client, relays = onion_of(3)
    payload = bytearray(wrap(client, cells.Relay(cells.DATA, 1, b"payload"), 2))
    payload[40] ^= 1
    payload = bytes(payload)
    for keys in relays:
        payload = keys.forward.crypt(payload)
    assert not relays[2].forward.recognise(payload)


def descriptor(name, ip, asn, exit=False, bw=10.0, family="", guard=True,
               policy=("accept *:*",)):
    key = raw(X25519PrivateKey.generate().public_key()).hex()
    return Descriptor(name, ip, asn, 9001, key, bw, guard, exit, family, tuple(policy))


def test_the_consensus_verifies_and_any_change_breaks_it():
    key = authority_key("onion", "as30.h1", 1.5)
    doc = sign(key, [descriptor("r1", "10.1.1.2", 1)], 2.0)
    assert [d.name for d in verify(key.public_key(), doc)] == ["r1"]
    with pytest.raises(ConsensusError):
        verify(key.public_key(), doc.replace(b"10.1.1.2", b"10.1.1.3"))
    with pytest.raises(ConsensusError):
        verify(authority_key("onion", "as30.h1", 1.6).public_key(), doc)
    with pytest.raises(ConsensusError):
        verify(key.public_key(), b"{not json")


def test_exit_policies_take_the_first_matching_rule():
    policy = ["reject 10.8.0.0/16:*", "accept *:80-90", "reject *:*"]
    assert exit_policy_accepts(policy, "10.7.1.2", 80)
    assert not exit_policy_accepts(policy, "10.8.1.2", 80)
    assert not exit_policy_accepts(policy, "10.7.1.2", 91)
    assert not exit_policy_accepts([], "10.7.1.2", 80)
    with pytest.raises(ValueError):
        OnionParams(authority="a", relays=[{"host": "b"}], exit_policy=["allow *:*"])


def test_params_are_checked_against_the_members():
    p = OnionParams(authority="x", relays=[{"host": "r1"}, {"host": "r1"}], hops=3,
                    sample={"destinations": ["nowhere"]}, prebuild="r1")
    problems = [m for _, m in check(p, ["r1", "c"])]
    assert any("'x' runs no agent" in m for m in problems)
    assert any("listed twice" in m for m in problems)
    assert any("no relay is an exit" in m for m in problems)
    assert any("3 hops need as many relays" in m for m in problems)
    assert any("'nowhere'" in m for m in problems)
    assert any("HOST:PORT" in m for m in problems)
    with pytest.raises(ValueError):
        OnionParams(authority="a", relays=[{"host": "b"}], hops=0)
    with pytest.raises(ValueError):
        OnionParams(authority="a", relays=[{"host": "b"}], selection="fastest")


CONSENSUS = [descriptor("g1", "10.1.1.2", 1, bw=100), descriptor("g2", "10.1.2.2", 1, bw=100),
             descriptor("m1", "10.2.1.2", 2, bw=50), descriptor("m2", "10.3.1.2", 3, family="f"),
             descriptor("e1", "10.4.1.2", 4, exit=True, policy=("accept *:80", "reject *:*")),
             descriptor("e2", "10.5.1.2", 5, exit=True, family="f"),
             descriptor("e3", "10.6.1.2", 6, exit=True, bw=1)]


def test_circuits_keep_their_relays_apart_and_exits_accept_the_destination():
    rng = random.Random(1)
    for _ in range(300):
        guard = choose_guard(CONSENSUS, rng)
        assert not guard.exit  # exits are kept for exiting when other guards exist
        c = choose(CONSENSUS, guard, 3, "10.9.1.2", 443, rng)
        names = [r.name for r in c.relays]
        assert c.relays[0] is guard and c.relays[-1].accepts("10.9.1.2", 443)
        assert names[-1] != "e1"  # its policy takes only port 80
        subnets = {r.ip.rsplit(".", 2)[0] for r in c.relays}
        assert len(subnets) == 3  # g1 and g2 share 10.1/16: never together
        families = [r.family for r in c.relays if r.family]
        assert len(families) == len(set(families))
    with pytest.raises(NoPath):
        choose(CONSENSUS[:4], CONSENSUS[0], 3, "10.9.1.2", 80, rng)  # no exits


def test_bandwidth_weights_the_choice():
    rng = random.Random(2)
    exits = [choose(CONSENSUS, CONSENSUS[0], 2, "10.9.1.2", 80, rng).relays[-1].name
             for _ in range(2000)]
    # e1 and e2 weigh 10 each, e3 1: e3 about 1/21 of the time
    assert exits.count("e3") < 0.1 * len(exits) < exits.count("e1")


def test_as_aware_selection_avoids_an_as_on_both_sides_when_it_can():
    # client in 100 reaches its guard (AS 1) through 10; exits e1 (AS 4) and e3 (AS 6)
    # reach the destination (AS 300) through 10 and through 20 respectively
    paths = {100: {1: [100, 10, 1]}, 4: {300: [4, 10, 300]}, 6: {300: [6, 20, 300]},
             5: {300: [5, 10, 300]}}
    rng = random.Random(3)
    vanilla = [choose(CONSENSUS, CONSENSUS[0], 3, "10.9.1.2", 80, rng, "vanilla", paths,
                      100, 300) for _ in range(200)]
    assert any(c.shared_ases == {10} for c in vanilla)
    aware = [choose(CONSENSUS, CONSENSUS[0], 3, "10.9.1.2", 80, rng, "as-aware", paths,
                    100, 300) for _ in range(200)]
    assert all(c.safe and not c.shared_ases and c.relays[-1].name == "e3" for c in aware)
    # nothing safe: it falls back, and says so
    only_unsafe = [d for d in CONSENSUS if d.name != "e3"]
    c = choose(only_unsafe, CONSENSUS[0], 3, "10.9.1.2", 80, rng, "as-aware", paths, 100, 300)
    assert not c.safe and c.shared_ases == {10}


# --- whole circuits of real relays, on loopback addresses in one event loop ----------------

async def echo_server(ip: str, port: int):
    async def serve(reader, writer):
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()
        writer.close()
    return await asyncio.start_server(serve, ip, port)


async def network(n_relays: int, records: list):
    relays, descs = [], []
    for i in range(n_relays):
        me = {"name": f"r{i}", "ip": f"127.{10 + i}.0.1", "asn": 10 + i}
        r = Relay(me, 9001, {}, ("accept *:*",), i == n_relays - 1, records.append)
        await r.start()
        relays.append(r)
        descs.append(r.descriptor(10.0, i == 0, ""))
    return relays, descs


def proxy(descs, records, hops=3):
    me = {"name": "c", "ip": "127.50.0.1", "asn": 50}
    return OnionProxy(me, descs, hops, "vanilla", 600.0, {}, {}, {}, lambda a, b: None,
                      random.Random(1), records.append)


async def through(p: OnionProxy, ip: str, port: int, data: bytes) -> bytes:
    """A stream to ip:port through the proxy's SOCKS front end: what comes back."""
    port_of_socks = p.server.sockets[0].getsockname()[1]
    reader, writer = await asyncio.open_connection("127.0.0.1", port_of_socks)
    writer.write(b"\x05\x01\x00\x05\x01\x00\x01" + bytes(map(int, ip.split("."))) +
                 port.to_bytes(2, "big"))
    assert await reader.readexactly(2) == b"\x05\x00"
    reply = await reader.readexactly(10)
    assert reply[1] == 0, reply
    writer.write(data)
    got = await reader.readexactly(len(data))
    writer.close()
    return got


def test_a_circuit_carries_a_stream_and_a_tampered_cell_tears_it_down():
    async def main():
        records: list = []
        relays, descs = await network(3, records)
        server = await echo_server("127.60.0.1", 7777)
        p = proxy(descs, records)
        await p.serve_socks(0)
        data = bytes(range(256)) * 2000  # 512 kB: many cells each way
        assert await through(p, "127.60.0.1", 7777, data) == data
        circ = next(iter(p.circuits.values()))
        assert [r.name for r in circ.choice.relays] == ["r0", "r1", "r2"]
        # a cell no hop recognises (a flipped bit on the wire looks the same to them)
        circ.link.send(circ.circ_id, cells.RELAY, bytes(cells.PAYLOAD))
        for _ in range(100):
            await asyncio.sleep(0.01)
            if circ.closed:
                break
        assert circ.closed
        assert any(r.get("event") == "protocol_error" for r in records)
        assert all(not r.by_prev for r in relays)  # every hop forgot the circuit
        await p.close()
        for r in relays:
            await r.close()
        server.close()
    asyncio.run(main())


def test_a_hundred_concurrent_circuits_through_one_relay():
    async def main():
        records: list = []
        relays, descs = await network(3, records)
        server = await echo_server("127.60.0.1", 7778)
        proxies = [proxy(descs, records) for _ in range(100)]
        circuits = await asyncio.gather(*(p.build("127.60.0.1", 7778) for p in proxies))
        assert len(relays[1].by_prev) == 100  # the middle carries them all at once
        for p in proxies:
            await p.serve_socks(0)
        answers = await asyncio.gather(*(through(p, "127.60.0.1", 7778, b"ping %d" % i)
                                         for i, p in enumerate(proxies)))
        assert answers == [b"ping %d" % i for i in range(100)]
        assert not [r for r in records if r.get("event") == "protocol_error"
                    or r.get("metric") in ("circuit_failed", "stream_failed")]
        assert all(len(c.hops) == 3 for c in circuits)
        for p in proxies:
            await p.close()
        for r in relays:
            await r.close()
        server.close()
    asyncio.run(main())


def test_torrc_of_each_role_follows_the_test_network_templates():
    from overlays.tor import TorParams, check as tor_check, ports as tor_ports
    from overlays.tor.torrc import dir_authority, nickname, torrc
    line = dir_authority("as3.h1", "10.3.1.2", 5000, 7000, "AB" * 20, "CD" * 20)
    assert line == (f"DirAuthority tas3h1 orport=5000 no-v2 v3ident={'AB' * 20} "
                    f"10.3.1.2:7000 {'CD' * 20}")
    auth = torrc("authority", "as3.h1", "10.3.1.2", "/d", [line], 5000, 7000, 9050)
    for option in ("TestingTorNetwork 1", "V3AuthoritativeDirectory 1", "DirPort 10.3.1.2:7000",
                   "ORPort 10.3.1.2:5000", "ExitRelay 0", "ShutdownWaitLength 0", line):
        assert option in auth.splitlines()
    exit_ = torrc("relay", "as4.h1", "10.4.1.2", "/d", [line], 5000, 7000, 9050, exit=True)
    assert "ExitPolicyRejectPrivate 0" in exit_ and "AuthoritativeDirectory 1" not in exit_
    client = torrc("client", "as5.h1", "10.5.1.2", "/d", [line], 5000, 7000, 9150)
    assert "SocksPort 127.0.0.1:9150" in client and "ORPort" not in client
    assert nickname("as1000.h12345678901234") == "tas1000h12345678901"  # 19 characters
    p = TorParams(authorities=["a"], relays=[{"host": "a"}, {"host": "x"}])
    problems = [m for _, m in tor_check(p, ["a", "c"])]
    assert any("is an authority" in m for m in problems)
    assert any("'x' runs no agent" in m for m in problems)
    assert any("no relay is an exit" in m for m in problems)
    assert {port.number for port in tor_ports(p, "a")} == {5000, 7000, 7001}
    assert [(port.number, port.on) for port in tor_ports(p, "c")] == [(9050, "loopback")]
