"""The onion proxy: a client's side of circuits, behind a SOCKS5 front end, so that curl
(`--socks5-hostname`) or any application reaches the network through it.

- Circuits are built by telescoping: CREATE to the guard, then one EXTEND per further
  hop, sent through the hops already built, each answered by that hop's EXTENDED; one key
  exchange per hop (crypto.py), so no relay learns more than its neighbours.
- Streams are multiplexed on circuits: a SOCKS CONNECT becomes a BEGIN on a circuit whose
  exit accepts the destination (and, as-aware, is safe for its AS), built on demand when
  none is; a circuit takes new streams for `lifetime` seconds after its first use (tor's
  MaxCircuitDirtiness), then only finishes the ones it has.
- One circuit is built ahead (`prebuild`) so the first stream does not wait for it.

Records: `circuit_build_ms` (with `via_ips`, the relays, and `model_ms`, the sum of the
configured RTTs of its hops: the telescoping costs about one to two of those), per
stream `stream_ttfb_ms` (BEGIN sent to the stream's first byte back; `circuit_wait_ms`
before it, when the stream waited for a circuit to be built) with `dst_ip`,
`via_ips` (a path report: the harness sets the circuit against the underlay's path) and
`model_ms` (2 x (circuit RTT + exit-destination RTT): the BEGIN/CONNECTED round trip and
the request/response one, from the configured delays), `circuit_failed`, `stream_failed`.
"""
from __future__ import annotations

import asyncio
import ipaddress
import itertools
import random
import struct
import time
from dataclasses import dataclass, field
from typing import Callable, Dict, List, Optional, Tuple

from . import cells
from .crypto import ClientHandshake, HandshakeError, HopKeys
from .directory import Descriptor
from .link import Link
from .path import AsPaths, Choice, NoPath, choose, choose_guard
from .relay import END_REASONS, extend_payload

Report = Callable[[Dict], None]
STEP_TIMEOUT = 10.0


class CircuitError(RuntimeError):
    pass


@dataclass(eq=False)
class Circuit:
    link: Link
    circ_id: int
    choice: Choice
    hops: List[HopKeys] = field(default_factory=list)
    pending: Optional["asyncio.Future[bytes]"] = None  # CREATED / EXTENDED awaited
    streams: Dict[int, "Stream"] = field(default_factory=dict)
    first_used: Optional[float] = None
    dst_asn: Optional[int] = None  # as-aware: the AS it was chosen for
    closed: bool = False

    @property
    def exit(self) -> Descriptor:
        return self.choice.relays[-1]

    def send(self, relay: cells.Relay, hop: int = -1) -> None:
        """Seal a relay cell for `hop` (default: the last) and add the layers of the hops
        before it, innermost first."""
        hop = hop % len(self.hops)
        payload = self.hops[hop].forward.seal(relay.payload())
        for keys in reversed(self.hops[:hop]):
            payload = keys.forward.crypt(payload)
        self.link.send(self.circ_id, cells.RELAY, payload)

    def peel(self, payload: bytes) -> Optional[Tuple[int, cells.Relay]]:
        """Remove layers from a backward cell until a hop recognises it: (hop, relay)."""
        for i, keys in enumerate(self.hops):
            payload = keys.backward.crypt(payload)
            if keys.backward.recognise(payload):
                return i, cells.parse_relay(payload)
        return None


@dataclass(eq=False)
class Stream:
    writer: asyncio.StreamWriter
    connected: "asyncio.Future[bool]"
    first_byte: Optional[float] = None
    end_reason: str = "no answer"


class OnionProxy:
    def __init__(self, me: Dict, consensus: List[Descriptor], hops: int, selection: str,
                 lifetime: float, as_paths: AsPaths, asn_of: Dict[str, int],
                 names: Dict[str, str], rtt: Callable[[str, str], Optional[float]],
                 rng: random.Random, report: Report):
        self.me, self.consensus, self.n_hops = me, consensus, hops
        self.selection, self.lifetime, self.as_paths = selection, lifetime, as_paths
        self.asn_of, self.names, self.rtt, self.rng = asn_of, names, rtt, rng
        self.report = report
        self.guard = choose_guard(consensus, rng)
        self.link: Optional[Link] = None
        self.circuits: Dict[int, Circuit] = {}
        self.stream_ids = itertools.count(1)
        self.tasks: set = set()
        self.server: Optional[asyncio.AbstractServer] = None
        self.building: Optional["asyncio.Task[Circuit]"] = None

    # --- the link to the guard --------------------------------------------------------
    async def _guard_link(self) -> Link:
        if self.link is None or self.link.closed.is_set():
            self.link = await Link.open(self.guard.ip, self.guard.or_port)
            task = asyncio.get_running_loop().create_task(
                self.link.serve(self._cell, self._link_gone))
            self.tasks.add(task)
            task.add_done_callback(self.tasks.discard)
        return self.link

    def _link_gone(self, link: Link) -> None:
        for circ in [c for c in self.circuits.values() if c.link is link]:
            self._close(circ, "link closed")

    def _close(self, circ: Circuit, why: str) -> None:
        if circ.closed:
            return
        circ.closed = True
        self.circuits.pop(circ.circ_id, None)
        if circ.pending is not None and not circ.pending.done():
            circ.pending.set_exception(CircuitError(why))
        for stream in circ.streams.values():
            if not stream.connected.done():
                stream.connected.set_result(False)
            stream.writer.close()
        self.report({"event": "circuit_closed", "why": why,
                     "via_ips": [r.ip for r in circ.choice.relays]})

    async def _cell(self, link: Link, circ_id: int, command: int, payload: bytes) -> None:
        circ = self.circuits.get(circ_id)
        if circ is None:
            return
        if command == cells.CREATED and circ.pending is not None and not circ.pending.done():
            circ.pending.set_result(payload)
        elif command == cells.DESTROY:
            self._close(circ, "destroyed by a relay")
        elif command == cells.RELAY:
            got = circ.peel(payload)
            if got is None:
                self._close(circ, "a cell no hop recognised (tampered?)")
                link.send(circ_id, cells.DESTROY)
                return
            hop, relay = got
            if relay.command == cells.EXTENDED:
                if circ.pending is not None and not circ.pending.done():
                    circ.pending.set_result(relay.data)
            else:
                await self._stream_cell(circ, relay)

    # --- circuits -----------------------------------------------------------------------
    async def build(self, dst_ip: str, dst_port: int) -> Circuit:
        dst_asn = self.asn_of.get(dst_ip)
        choice = choose(self.consensus, self.guard, self.n_hops, dst_ip, dst_port, self.rng,
                        self.selection, self.as_paths, self.me["asn"], dst_asn)
        started = time.monotonic()
        link = await self._guard_link()
        circ = Circuit(link, link.new_circ_id(), choice,
                       dst_asn=dst_asn if self.selection == "as-aware" else None)
        self.circuits[circ.circ_id] = circ
        try:
            for i, relay in enumerate(choice.relays):
                hs = ClientHandshake(bytes.fromhex(relay.onion_key))
                circ.pending = asyncio.get_running_loop().create_future()
                if i == 0:
                    link.send(circ.circ_id, cells.CREATE, hs.create())
                else:
                    circ.send(cells.Relay(cells.EXTEND, 0,
                                          extend_payload(relay.ip, relay.or_port, hs.create())))
                reply = await asyncio.wait_for(circ.pending, STEP_TIMEOUT)
                circ.hops.append(hs.finish(reply))
        except (CircuitError, HandshakeError, asyncio.TimeoutError) as e:
            self._close(circ, f"build failed: {e or 'timeout'}")
            self.report({"metric": "circuit_failed", "value": 1, "why": str(e) or "timeout"})
            raise CircuitError(str(e) or "timeout") from None
        circ.pending = None
        ips = [r.ip for r in choice.relays]
        hops = [self.me["ip"]] + ips
        model = self._sum_rtt(hops)
        self.report({"metric": "circuit_build_ms",
                     "value": round((time.monotonic() - started) * 1e3, 3),
                     "via_ips": ips, "relays": [r.name for r in choice.relays],
                     "model_ms": model, "shared_ases": sorted(choice.shared_ases),
                     "safe": choice.safe})
        return circ

    def _sum_rtt(self, ips: List[str]) -> Optional[float]:
        rtts = [self.rtt(a, b) for a, b in zip(ips, ips[1:])]
        return None if any(r is None for r in rtts) else round(sum(rtts), 3)  # type: ignore

    def _usable(self, circ: Circuit, ip: str, port: int) -> bool:
        fresh = circ.first_used is None or time.monotonic() - circ.first_used < self.lifetime
        right_as = circ.dst_asn is None or circ.dst_asn == self.asn_of.get(ip)
        return not circ.closed and fresh and right_as and circ.exit.accepts(ip, port)

    async def circuit_for(self, ip: str, port: int) -> Circuit:
        if self.building is not None:  # the prebuilt circuit may still be on its way
            try:
                await asyncio.shield(self.building)
            except (CircuitError, NoPath, OSError, asyncio.TimeoutError):
                pass
        for circ in self.circuits.values():
            if len(circ.hops) == self.n_hops and self._usable(circ, ip, port):
                return circ
        return await self.build(ip, port)

    def prebuild(self, ip: str, port: int) -> None:
        self.building = asyncio.get_running_loop().create_task(self.build(ip, port))
        self.building.add_done_callback(lambda t: t.cancelled() or t.exception())

    # --- streams ------------------------------------------------------------------------
    async def _stream_cell(self, circ: Circuit, relay: cells.Relay) -> None:
        stream = circ.streams.get(relay.stream)
        if stream is None:
            return
        if relay.command == cells.CONNECTED and not stream.connected.done():
            stream.connected.set_result(True)
        elif relay.command == cells.DATA:
            if stream.first_byte is None:
                stream.first_byte = time.monotonic()
            stream.writer.write(relay.data)
            try:
                await stream.writer.drain()
            except (ConnectionError, OSError):
                circ.streams.pop(relay.stream, None)
                circ.send(cells.Relay(cells.END, relay.stream, b"\x01"))
        elif relay.command == cells.END:
            stream.end_reason = END_REASONS.get(relay.data[:1][0] if relay.data else 1, "misc")
            circ.streams.pop(relay.stream, None)
            if not stream.connected.done():
                stream.connected.set_result(False)
            stream.writer.close()

    async def serve_socks(self, port: int) -> None:
        self.server = await asyncio.start_server(self._socks, "127.0.0.1", port)

    async def _socks(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            target = await asyncio.wait_for(socks5_handshake(reader, writer), STEP_TIMEOUT)
        except (ValueError, asyncio.IncompleteReadError, asyncio.TimeoutError, OSError):
            writer.close()
            return
        await self.open_stream(target, reader, writer)

    async def open_stream(self, target: Tuple[str, int], reader: asyncio.StreamReader,
                          writer: asyncio.StreamWriter) -> None:
        host, port = target
        ip = self.names.get(host, host)
        asked = time.monotonic()
        try:
            ipaddress.IPv4Address(ip)
            circ = await self.circuit_for(ip, port)
        except (ValueError, CircuitError, NoPath, OSError, asyncio.TimeoutError) as e:
            self.report({"metric": "stream_failed", "value": 1, "dst": host, "why": str(e)})
            writer.write(socks5_reply(1))
            writer.close()
            return
        if circ.first_used is None:
            circ.first_used = asked
        begun = time.monotonic()
        sid = next(self.stream_ids) % 65535 + 1
        stream = Stream(writer, asyncio.get_running_loop().create_future())
        circ.streams[sid] = stream
        circ.send(cells.Relay(cells.BEGIN, sid, f"{ip}:{port}\0".encode()))
        try:
            ok = await asyncio.wait_for(stream.connected, STEP_TIMEOUT)
        except asyncio.TimeoutError:
            ok = False
        writer.write(socks5_reply(0 if ok else 5))
        if not ok:
            circ.streams.pop(sid, None)
            self.report({"metric": "stream_failed", "value": 1, "dst": host,
                         "why": f"the exit ended the stream: {stream.end_reason}"})
            writer.close()
            return
        self.report({"event": "stream_open", "dst_ip": ip, "stream": sid})
        await self._pump(circ, sid, reader)
        ips = [r.ip for r in circ.choice.relays]
        model = self._sum_rtt([self.me["ip"]] + ips)
        back = self.rtt(ips[-1], ip)
        if stream.first_byte is not None:
            self.report({"metric": "stream_ttfb_ms",
                         "value": round((stream.first_byte - begun) * 1e3, 3),
                         "circuit_wait_ms": round((begun - asked) * 1e3, 3),
                         "dst_ip": ip, "via_ips": ips,
                         "model_ms": None if model is None or back is None
                         else round(2 * (model + back), 3)})

    async def _pump(self, circ: Circuit, sid: int, reader: asyncio.StreamReader) -> None:
        """The application's bytes into DATA cells until it closes or the stream ends."""
        try:
            while sid in circ.streams and not circ.closed:
                chunk = await reader.read(cells.RELAY_DATA)
                if not chunk:
                    break
                circ.send(cells.Relay(cells.DATA, sid, chunk))
                await circ.link.drain()
        except (ConnectionError, OSError):
            pass
        if circ.streams.pop(sid, None) is not None and not circ.closed:
            circ.send(cells.Relay(cells.END, sid, b"\x06"))

    async def close(self) -> None:
        if self.server is not None:
            self.server.close()
        for circ in list(self.circuits.values()):
            circ.link.send(circ.circ_id, cells.DESTROY)
            self._close(circ, "closing")
        if self.link is not None:
            await self.link.drain()
            self.link.close()
        for task in list(self.tasks):
            task.cancel()


async def socks5_handshake(reader: asyncio.StreamReader,
                           writer: asyncio.StreamWriter) -> Tuple[str, int]:
    """RFC 1928, no authentication, CONNECT only: the (host, port) asked for."""
    version, n = await reader.readexactly(2)
    methods = await reader.readexactly(n)
    if version != 5 or 0 not in methods:
        writer.write(b"\x05\xff")
        raise ValueError("not SOCKS5 without authentication")
    writer.write(b"\x05\x00")
    version, command, _, atyp = await reader.readexactly(4)
    if version != 5 or command != 1:
        writer.write(socks5_reply(7))
        raise ValueError("only CONNECT is supported")
    if atyp == 1:
        host = str(ipaddress.IPv4Address(await reader.readexactly(4)))
    elif atyp == 3:
        (length,) = await reader.readexactly(1)
        host = (await reader.readexactly(length)).decode("ascii", "replace")
    else:
        writer.write(socks5_reply(8))
        raise ValueError("only IPv4 addresses and host names")
    (port,) = struct.unpack("!H", await reader.readexactly(2))
    return host, port


def socks5_reply(code: int) -> bytes:
    return bytes([5, code, 0, 1, 0, 0, 0, 0, 0, 0])
