"""A Chord node over UDP (Stoica et al., SIGCOMM 2001): successor list, predecessor,
finger table, stabilisation, and iterative lookups.

Messages are KRPC, the envelope of BitTorrent's DHT (BEP 5): bencoded dictionaries, a
query `{"t": tid, "y": "q", "q": method, "a": args}` answered by `{"t": tid, "y": "r",
"r": values}`; nodes travel as BEP 5's 26-byte "compact node info" (20-byte id, IPv4,
port). The methods are Chord's, not BEP 5's:

- `ping` -> `{id}`;
- `find {key}` -> `{id, done, nodes}`: with the key in (me, successor], `done` 1 and my
  successor list (the key's node first); else `done` 0 and the nodes I know in (me, key),
  closest to the key first (the next hop, then fallbacks);
- `state` -> `{id, pred, succ}`: my predecessor (empty if none) and successor list, what
  a predecessor's stabilisation asks;
- `notify {node}`: "I think I am your predecessor" (sent at every stabilisation, so a
  predecessor not heard from for `pred_expiry` seconds is taken for failed);
- `joined {node}`: "I have just joined between you and your successor", from a joining
  node to its predecessor, so sequential joins leave the ring right at once (the paper
  waits for the predecessor's next stabilisation).

Lookups are iterative: the asker walks the nodes itself, so it counts the hops and skips
a node that does not answer (the next candidate of the previous answer). A node that
does not answer within `timeout` is dropped from this node's tables; stabilisation and
finger fixing learn the ring again. Whatever a datagram holds is untrusted: malformed
ones are counted and dropped.
"""
from __future__ import annotations

import asyncio
import os
import socket
import time
from typing import Any, Dict, List, NamedTuple, Optional, Tuple

from ..bittorrent.bencode import BencodeError, decode, encode
from .ring import BITS, RING, between, closest_preceding, finger_start, up_to

MAX_DATAGRAM = 1400
MAX_NODES = 32  # nodes per answer, at most (26 bytes each)
UNKNOWN = -1  # the id of a node known only by its address (a member to join through)


class Ref(NamedTuple):
    id: int
    ip: str
    port: int

    def compact(self) -> bytes:
        return (self.id.to_bytes(20, "big") + socket.inet_aton(self.ip)
                + self.port.to_bytes(2, "big"))


def refs(blob: Any) -> List[Ref]:
    """Compact node infos back into refs; ValueError if the blob is not a whole number."""
    if not isinstance(blob, bytes) or len(blob) % 26 or len(blob) > 26 * MAX_NODES:
        raise ValueError("bad compact node list")
    return [Ref(int.from_bytes(blob[i:i + 20], "big"), socket.inet_ntoa(blob[i + 20:i + 24]),
                int.from_bytes(blob[i + 24:i + 26], "big")) for i in range(0, len(blob), 26)]


def pack(nodes: List[Ref]) -> bytes:
    return b"".join(n.compact() for n in nodes[:MAX_NODES])


class Lookup(NamedTuple):
    answer: Optional[Ref]  # the key's node, None when the lookup ran out of nodes
    hops: int  # nodes that answered `find` on the way: the path length
    timeouts: int
    rpcs: int


class Node(asyncio.DatagramProtocol):
    def __init__(self, me: Ref, successors: int, timeout: float, pred_expiry: float):
        self.me, self.r, self.timeout, self.pred_expiry = me, successors, timeout, pred_expiry
        self.successors: List[Ref] = []
        self.pred: Optional[Ref] = None
        self.pred_heard = 0.0  # monotonic time of its last notify
        self.fingers: Dict[int, Ref] = {}
        self.next_finger = 0  # the finger fix_finger looks at next
        self.pending: Dict[bytes, asyncio.Future] = {}
        self.transport: Optional[asyncio.DatagramTransport] = None
        self.bad = 0  # malformed datagrams dropped
        self.misplaced = 0  # lookups of my own id that ended elsewhere (check_place)

    # --- the socket ---
    async def open(self) -> None:
        loop = asyncio.get_running_loop()
        await loop.create_datagram_endpoint(lambda: self, local_addr=(self.me.ip, self.me.port))

    def connection_made(self, transport: Any) -> None:
        self.transport = transport

    def close(self) -> None:
        if self.transport is not None:
            self.transport.close()
            self.transport = None
        for fut in self.pending.values():
            fut.cancel()
        self.pending.clear()

    def datagram_received(self, data: bytes, addr: Tuple[str, int]) -> None:
        try:
            if len(data) > MAX_DATAGRAM:
                raise ValueError("oversized")
            msg = decode(data)
            if not isinstance(msg, dict) or not isinstance(msg.get(b"t"), bytes):
                raise ValueError("not a KRPC message")
            kind = msg.get(b"y")
            if kind == b"q":
                out = self._answer(msg.get(b"q"), msg.get(b"a"))
                self._send({b"t": msg[b"t"], b"y": b"r", b"r": out}, addr)
            elif kind in (b"r", b"e"):
                fut = self.pending.pop(msg[b"t"], None)
                if fut is not None and not fut.done():
                    fut.set_result(msg.get(b"r") if kind == b"r" else None)
            else:
                raise ValueError("unknown message type")
        except (BencodeError, ValueError, KeyError, TypeError, OverflowError, OSError):
            self.bad += 1

    def error_received(self, exc: Exception) -> None:
        pass  # ICMP unreachable from a failed node: its query times out

    def _send(self, msg: Dict[bytes, Any], addr: Tuple[str, int]) -> None:
        if self.transport is not None:
            self.transport.sendto(encode(msg), addr)

    async def rpc(self, node: Ref, method: str, args: Optional[Dict[bytes, Any]] = None
                  ) -> Optional[Dict[bytes, Any]]:
        """The answer, or None when `node` did not answer within the timeout, or answered
        with another id: a node that failed and came back at the same address is a new
        node, and the old one is gone (UNKNOWN: a member's address, whoever is there)."""
        if self.transport is None:
            return None
        tid = os.urandom(4)
        fut = asyncio.get_running_loop().create_future()
        self.pending[tid] = fut
        self._send({b"t": tid, b"y": b"q", b"q": method.encode(),
                    b"a": {b"id": self.me.compact(), **(args or {})}}, (node.ip, node.port))
        try:
            answer = await asyncio.wait_for(fut, self.timeout)
        except asyncio.TimeoutError:
            answer = None
        finally:
            self.pending.pop(tid, None)
        if not isinstance(answer, dict) or (node.id != UNKNOWN
                                            and answer.get(b"id") != node.id.to_bytes(20, "big")):
            self.forget(node)
            return None
        return answer

    # --- answering ---
    def _answer(self, method: Any, args: Any) -> Dict[bytes, Any]:
        if not isinstance(args, dict):
            raise ValueError("no arguments")
        out: Dict[bytes, Any] = {b"id": self.me.id.to_bytes(20, "big")}
        if method == b"ping":
            return out
        if method == b"find":
            key = args.get(b"key")
            if not isinstance(key, bytes) or len(key) != 20:
                raise ValueError("bad key")
            done, nodes = self.next_hops(int.from_bytes(key, "big"))
            return {**out, b"done": int(done), b"nodes": pack(nodes)}
        if method == b"state":
            return {**out, b"pred": self.pred.compact() if self.pred else b"",
                    b"succ": pack(self.successors)}
        if method in (b"notify", b"joined"):
            (node,) = refs(args.get(b"node"))
            if method == b"notify":
                self.notified(node)
            elif self.successors and between(node.id, self.me.id, self.successors[0].id):
                self.successors = [node, *self.successors][:self.r]
            return out
        raise ValueError("unknown method")

    def next_hops(self, key: int) -> Tuple[bool, List[Ref]]:
        """(True, my successors) if the key is my successor's; else (False, the nodes I
        know between me and the key, closest to it first)."""
        if self.successors and up_to(key, self.me.id, self.successors[0].id):
            return True, self.successors
        # The next hop is the closest preceding finger (the paper's path length counts
        # finger jumps); the successor list only adds fallbacks for when it has failed.
        fingers = {n.id: n for n in [*self.fingers.values(), *self.successors[:1]]}
        known = {**fingers, **{n.id: n for n in self.successors}}
        best = closest_preceding(self.me.id, key, fingers)[:1]
        rest = [i for i in closest_preceding(self.me.id, key, known) if i not in best]
        return False, [known[i] for i in best + rest][:8]

    def notified(self, node: Ref) -> None:
        if node.id == self.me.id:
            return
        if self.pred is None or node == self.pred or between(node.id, self.pred.id,
                                                             self.me.id):
            self.pred, self.pred_heard = node, time.monotonic()
        if not self.successors:  # alone: the first to notify me closes the ring
            self.successors = [node]

    def forget(self, node: Ref) -> None:
        """A node that did not answer: out of every table (it may come back by
        stabilisation)."""
        self.successors = [s for s in self.successors if s != node]
        self.fingers = {i: f for i, f in self.fingers.items() if f != node}
        if self.pred == node:
            self.pred = None

    # --- lookups ---
    async def lookup(self, key: int, via: Optional[List[Ref]] = None,
                     check: bool = True) -> Lookup:
        """Iterative lookup of the key's node, from this node's tables (or, to join,
        starting at `via`). With `check` the answer is pinged, so a failed node is never
        the answer (finger fixing skips it: a dead finger is dropped when next used)."""
        hops = timeouts = rpcs = 0
        if via is None:
            done, first = self.next_hops(key)
            if done:
                return await self._first_alive(first, hops, timeouts, rpcs, check)
            via = first
        stack: List[List[Ref]] = [list(via)]
        tried = set()
        while stack:
            if not stack[-1]:
                stack.pop()
                continue
            node = stack[-1].pop(0)
            if (node.ip, node.port) in tried or node.id == self.me.id:
                continue
            tried.add((node.ip, node.port))
            rpcs += 1
            answer = await self.rpc(node, "find", {b"key": key.to_bytes(20, "big")})
            try:  # its own id, not the one asked for: a member joined through is
                # addressed by ip and port only
                nodes = refs(answer[b"nodes"]) if answer is not None else None
                here = int.from_bytes(answer[b"id"], "big") if answer is not None else 0
                done = answer is not None and answer.get(b"done") == 1
            except (ValueError, KeyError, TypeError):
                nodes = None
            if nodes is None:
                timeouts += answer is None
                continue
            hops += 1
            if done:
                return await self._first_alive(nodes, hops, timeouts, rpcs, check)
            # only nodes closer to the key than this one: the walk always progresses
            stack.append([n for n in nodes if between(n.id, here, key)])
        return Lookup(None, hops, timeouts, rpcs)

    async def _first_alive(self, nodes: List[Ref], hops: int, timeouts: int,
                           rpcs: int, check: bool) -> Lookup:
        for node in nodes:
            if node.id == self.me.id or not check:
                return Lookup(node, hops, timeouts, rpcs)
            rpcs += 1
            if await self.rpc(node, "ping") is not None:
                return Lookup(node, hops, timeouts, rpcs)
            timeouts += 1
        return Lookup(None, hops, timeouts, rpcs)

    # --- joining and upkeep ---
    async def join(self, via: List[Ref]) -> bool:
        """Find my successor through `via`; True once I have one. The key looked up is
        my id + 1, not my id: a node that lost every successor (timeouts under load)
        joins again while the ring still knows it, and a lookup of its own id would
        answer itself, making it "alone" and its predecessor its successor, a pointer
        across the whole ring."""
        found = await self.lookup((self.me.id + 1) % RING, via)
        if found.answer is None or found.answer.id == self.me.id:
            return False
        self.successors = [found.answer]
        before = await self.stabilise()
        if before is not None:
            self.pred, self.pred_heard = before, time.monotonic()
            self._tell(before, b"joined")
        return True

    async def stabilise(self) -> Optional[Ref]:
        """Ask my successor for its predecessor (adopt it if it sits between us, and so on)
        and its successor list, and tell it about me; forget a predecessor that has not notified
        me for `pred_expiry` seconds. Returns the node before me, as my successor saw
        it (None if it had none)."""
        before = None
        while self.successors:
            succ = self.successors[0]
            state = self._state() if succ.id == self.me.id else await self.rpc(succ, "state")
            if state is None:
                continue  # rpc dropped it: try the next successor
            try:
                pred, further = self._parse(state)
            except (ValueError, KeyError):
                self.forget(succ)
                continue
            # walk back while the successor's predecessor sits between us (the paper
            # takes one step per round: after many concurrent joins the ring then
            # needs a round per node that joined into one arc)
            for _ in range(self.r):
                if pred is None or not between(pred.id, self.me.id, succ.id):
                    break
                closer = await self.rpc(pred, "state")
                try:
                    if closer is None:
                        break
                    succ, (pred, further) = pred, self._parse(closer)
                except (ValueError, KeyError):
                    further, pred = [], None
            before = pred if pred is not None and pred.id != self.me.id else None
            chain = [succ] + [n for n in further if n.id != self.me.id]
            unique = list({n.id: n for n in chain}.values())
            self.successors = unique[:self.r]
            if succ.id != self.me.id:
                self._tell(succ, b"notify")
            break
        if self.pred is not None and time.monotonic() - self.pred_heard > self.pred_expiry:
            self.pred = None
        return before

    @staticmethod
    def _parse(state: Dict[bytes, Any]) -> Tuple[Optional[Ref], List[Ref]]:
        """A `state` answer: (its predecessor or None, its successor list)."""
        pred = refs(state[b"pred"]) if state[b"pred"] else []
        if len(pred) > 1:
            raise ValueError("two predecessors")
        return (pred[0] if pred else None), refs(state[b"succ"])

    def _tell(self, node: Ref, method: bytes) -> None:
        """notify or joined, about me: no answer awaited (a lost one is repeated at the
        next stabilisation)."""
        self._send({b"t": b"nt", b"y": b"q", b"q": method,
                    b"a": {b"id": self.me.compact(), b"node": self.me.compact()}},
                   (node.ip, node.port))

    def _state(self) -> Dict[bytes, Any]:
        return {b"pred": self.pred.compact() if self.pred else b"",
                b"succ": pack(self.successors)}

    async def check_place(self) -> None:
        """Look up my own id through my tables: the walk goes round the ring and should
        end at me. If another node answers, the ring is split or loops twice round the
        ids (concurrent joins amid timeouts can do that, and stabilisation alone never
        mends it): I notify that node, which takes me as its predecessor if I sit
        before it, and its predecessor's stabilisation then links me in."""
        found = await self.lookup(self.me.id)
        if found.answer is not None and found.answer.id != self.me.id:
            self.misplaced += 1
            self._tell(found.answer, b"notify")

    async def fix_finger(self) -> bool:
        """Refresh the next finger that needs a lookup (Chord's fix_fingers, one finger
        per call; about log2 N of the 160 are distinct): finger i and those after it
        whose starts fall before its node share it; fingers inside (me, successor] are
        the successor and cost nothing. True when the call finished a pass over the
        table (a new node makes one pass at once, then one finger at a time)."""
        began = self.next_finger
        if not self.successors:
            return True
        for _ in range(BITS):
            i = self.next_finger
            start = finger_start(self.me.id, i)
            if not up_to(start, self.me.id, self.successors[0].id):
                break
            self.fingers[i] = self.successors[0]
            self.next_finger = (i + 1) % BITS
        else:
            return True
        found = await self.lookup(start, check=False)
        if found.answer is None:
            self.fingers.pop(i, None)
            i += 1
        while found.answer is not None and i < BITS and up_to(
                finger_start(self.me.id, i), (start - 1) % RING, found.answer.id):
            self.fingers[i] = found.answer
            i += 1
        self.next_finger = i % BITS
        return self.next_finger <= began
