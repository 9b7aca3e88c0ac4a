"""An onion router: accepts links on its OR port, answers CREATE with its half of the
handshake, peels (forward) or adds (backward) one layer per relay cell, extends circuits
to the next relay on EXTEND, and, as an exit, opens TCP streams on BEGIN when its exit
policy allows.

What a relay knows of a circuit is what it needs to forward: the link and circuit id it
came from and the one it goes to. A middle relay sees only relays on both sides and
payloads under the exit's layer; only the guard sees the client's address, only the exit
the destination (tests/unit/test_onion.py checks a middle's view).

Records: `circuit` events (`opened`/`closed`, `role`: guard|middle|exit by position as this
relay sees it), `stream` events at an exit (`dst`, `bytes_in`, `bytes_out`), `refused`
(exit policy), `protocol_error` (an unrecognised cell at the last hop: tampering, or a
broken peer; the circuit is destroyed).
"""
from __future__ import annotations

import asyncio
import ipaddress
import struct
from dataclasses import dataclass, field
from typing import Callable, Dict, Optional, Tuple

from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey

from . import cells
from .crypto import HandshakeError, HopKeys, raw, server_handshake
from .directory import Descriptor
from .exitpolicy import exit_policy_accepts
from .link import Link

Report = Callable[[Dict], None]
CONNECT_TIMEOUT = 5.0
END_REASONS = {1: "misc", 2: "resolve failed", 3: "connect refused", 4: "exit policy",
               6: "done", 7: "timeout"}


def parse_begin(data: bytes) -> Tuple[str, int]:
    """BEGIN's data: 'host:port' then a NUL."""
    host, _, port = data.split(b"\0", 1)[0].decode("ascii", "replace").rpartition(":")
    if not host or not port.isdigit() or not 1 <= int(port) <= 65535:
        raise ValueError(f"bad BEGIN target {data[:64]!r}")
    return host, int(port)


def extend_payload(ip: str, port: int, handshake: bytes) -> bytes:
    return ipaddress.IPv4Address(ip).packed + struct.pack("!H", port) + handshake


@dataclass(eq=False)
class Circuit:
    keys: HopKeys
    prev: Tuple[Link, int]
    next: Optional[Tuple[Link, int]] = None
    streams: Dict[int, asyncio.StreamWriter] = field(default_factory=dict)
    extending: bool = False


class Relay:
    def __init__(self, me: Dict, or_port: int, names: Dict[str, str],
                 exit_policy: Tuple[str, ...], is_exit: bool, report: Report):
        self.me, self.or_port, self.names = me, or_port, names
        self.exit_policy, self.is_exit, self.report = exit_policy, is_exit, report
        self.onion = X25519PrivateKey.generate()
        self.by_prev: Dict[Tuple[Link, int], Circuit] = {}
        self.by_next: Dict[Tuple[Link, int], Circuit] = {}
        self.links: Dict[Tuple[str, int], Link] = {}  # outbound, reused per relay
        self.tasks: set = set()
        self.server: Optional[asyncio.AbstractServer] = None

    @property
    def onion_key(self) -> bytes:
        return raw(self.onion.public_key())

    def descriptor(self, bandwidth: float, guard: bool, family: str) -> Descriptor:
        return Descriptor(self.me["name"], self.me["ip"], self.me["asn"], self.or_port,
                          self.onion_key.hex(), bandwidth, guard, self.is_exit, family,
                          self.exit_policy)

    async def start(self) -> None:
        self.server = await asyncio.start_server(self._accept, self.me["ip"], self.or_port,
                                                 limit=1 << 20)

    async def close(self) -> None:
        if self.server is not None:
            self.server.close()
        for link in [c.prev[0] for c in self.by_prev.values()] + list(self.links.values()):
            link.close()
        for task in list(self.tasks):
            task.cancel()

    def _spawn(self, coro) -> None:
        task = asyncio.get_running_loop().create_task(coro)
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        link = Link(reader, writer, initiator=False)
        await link.serve(self._from_prev, self._link_gone)

    def _link_gone(self, link: Link) -> None:
        for key in [k for k in self.by_prev if k[0] is link]:
            self._destroy(self.by_prev[key], notify_prev=False)
        for key in [k for k in self.by_next if k[0] is link]:
            self._destroy(self.by_next[key], notify_next=False)
        self.links = {k: v for k, v in self.links.items() if v is not link}

    def _destroy(self, circ: Circuit, notify_prev: bool = True, notify_next: bool = True,
                 reason: str = "closed") -> None:
        if self.by_prev.pop(circ.prev, None) is None:
            return
        if notify_prev:
            circ.prev[0].send(circ.prev[1], cells.DESTROY)
        if circ.next is not None:
            self.by_next.pop(circ.next, None)
            if notify_next:
                circ.next[0].send(circ.next[1], cells.DESTROY)
        for writer in circ.streams.values():
            writer.close()
        self.report({"event": "circuit", "state": reason, "role": self._role(circ)})

    def _role(self, circ: Circuit) -> str:
        return "exit" if circ.next is None else "forward"

    # --- cells from the client's side -------------------------------------------------
    async def _from_prev(self, link: Link, circ_id: int, command: int, payload: bytes) -> None:
        circ = self.by_prev.get((link, circ_id))
        if command == cells.CREATE:
            if circ is not None:
                return
            try:
                keys, created = server_handshake(self.onion, payload)
            except HandshakeError as e:
                self.report({"event": "protocol_error", "what": str(e)})
                link.send(circ_id, cells.DESTROY)
                return
            self.by_prev[(link, circ_id)] = Circuit(keys, (link, circ_id))
            link.send(circ_id, cells.CREATED, created)
            self.report({"event": "circuit", "state": "opened"})
        elif circ is None:
            return
        elif command == cells.DESTROY:
            self._destroy(circ, notify_prev=False)
        elif command == cells.RELAY:
            plain = circ.keys.forward.crypt(payload)
            if circ.keys.forward.recognise(plain):
                await self._handle(circ, cells.parse_relay(plain))
            elif circ.next is not None:
                nlink, nid = circ.next
                nlink.send(nid, cells.RELAY, plain)
                await nlink.drain()
            else:
                self.report({"event": "protocol_error",
                             "what": "a relay cell no hop recognised (tampered?)"})
                self._destroy(circ, reason="protocol_error")

    def _send_back(self, circ: Circuit, relay: cells.Relay) -> None:
        link, circ_id = circ.prev
        link.send(circ_id, cells.RELAY, circ.keys.backward.seal(relay.payload()))

    async def _handle(self, circ: Circuit, relay: cells.Relay) -> None:
        if relay.command == cells.EXTEND and circ.next is None and not circ.extending:
            circ.extending = True
            self._spawn(self._extend(circ, relay.data))
        elif relay.command == cells.BEGIN:
            self._spawn(self._begin(circ, relay.stream, relay.data))
        elif relay.command == cells.DATA:
            writer = circ.streams.get(relay.stream)
            if writer is not None and not writer.is_closing():
                writer.write(relay.data)
                try:
                    await writer.drain()
                except (ConnectionError, OSError):
                    self._end(circ, relay.stream, 1)
        elif relay.command == cells.END:
            writer = circ.streams.pop(relay.stream, None)
            if writer is not None:
                writer.close()

    # --- extending ----------------------------------------------------------------------
    async def _extend(self, circ: Circuit, data: bytes) -> None:
        ip, (port,) = str(ipaddress.IPv4Address(data[:4])), struct.unpack("!H", data[4:6])
        try:
            link = self.links.get((ip, port))
            if link is None or link.closed.is_set():
                link = await Link.open(ip, port)
                self.links[(ip, port)] = link
                self._spawn(link.serve(self._from_next, self._link_gone))
        except (OSError, asyncio.TimeoutError) as e:
            self.report({"event": "extend_failed", "to": f"{ip}:{port}", "why": str(e)})
            self._destroy(circ, reason="extend_failed")
            return
        if circ.prev not in self.by_prev:
            return
        nid = link.new_circ_id()
        circ.next = (link, nid)
        self.by_next[(link, nid)] = circ
        link.send(nid, cells.CREATE, data[6:])

    # --- cells from the exit's side -----------------------------------------------------
    async def _from_next(self, link: Link, circ_id: int, command: int, payload: bytes) -> None:
        circ = self.by_next.get((link, circ_id))
        if circ is None:
            return
        if command == cells.CREATED:
            self._send_back(circ, cells.Relay(cells.EXTENDED, 0, payload[:64]))
        elif command == cells.RELAY:
            plink, pid = circ.prev
            plink.send(pid, cells.RELAY, circ.keys.backward.crypt(payload))
            await plink.drain()
        elif command == cells.DESTROY:
            self._destroy(circ, notify_next=False)

    # --- exit streams -------------------------------------------------------------------
    def _end(self, circ: Circuit, stream: int, reason: int) -> None:
        writer = circ.streams.pop(stream, None)
        if writer is not None:
            writer.close()
        if circ.prev in self.by_prev:
            self._send_back(circ, cells.Relay(cells.END, stream, bytes([reason])))

    async def _begin(self, circ: Circuit, stream: int, data: bytes) -> None:
        try:
            host, port = parse_begin(data)
        except ValueError:
            self._end(circ, stream, 1)
            return
        ip = self.names.get(host, host)
        try:
            ipaddress.IPv4Address(ip)
        except ValueError:
            self._end(circ, stream, 2)
            return
        if not (self.is_exit and exit_policy_accepts(self.exit_policy, ip, port)):
            self.report({"event": "refused", "dst": f"{ip}:{port}"})
            self._end(circ, stream, 4)
            return
        try:
            reader, writer = await asyncio.wait_for(asyncio.open_connection(ip, port),
                                                    CONNECT_TIMEOUT)
        except asyncio.TimeoutError:
            self._end(circ, stream, 7)
            return
        except OSError:
            self._end(circ, stream, 3)
            return
        if circ.prev not in self.by_prev:
            writer.close()
            return
        circ.streams[stream] = writer
        self._send_back(circ, cells.Relay(cells.CONNECTED, stream))
        sent = 0
        try:
            while True:
                chunk = await reader.read(cells.RELAY_DATA)
                if not chunk or circ.prev not in self.by_prev:
                    break
                sent += len(chunk)
                self._send_back(circ, cells.Relay(cells.DATA, stream, chunk))
                await circ.prev[0].drain()
        except (ConnectionError, OSError):
            pass
        self.report({"event": "stream", "dst": f"{ip}:{port}", "bytes_back": sent})
        if stream in circ.streams:
            self._end(circ, stream, 6)
