"""The Chord agent: one node (chord.Node) and its life (DHTParams, __init__.py).

    python -m overlays.dht --config CONFIG.json   (the contract: overlays/README.md)

Records: `joined` and `failed` events with the node's id (hex) and `life`; per lookup
`answered` 1/0 with `key`, `answer` (ids, hex), `began` (wall clock), `timeouts` and
`rpcs` (what analysis.py judges the answers with), and, when answered, `hops` (the path
length) and `lookup_ms`; every 5 s a `pointers` event (its id, successor, predecessor).
At its stop each node writes `dropped`: the malformed datagrams it got, and `misplaced`,
the checks of its place that found the ring split or looped (chord.check_place).
"""
from __future__ import annotations

import asyncio
import random
import time
from typing import Any, Dict, Optional

from ..agent import AsyncAgent
from . import DHTParams
from .chord import UNKNOWN, Node, Ref
from .ring import BITS, ident

CHECK_PLACE_S = 10.0  # mean seconds between a node's checks of its place (chord.check_place)
POINTERS_S = 5.0  # seconds between a node's reports of its successor and predecessor


class DHTAgent(AsyncAgent):
    def __init__(self, config: Dict[str, Any]):
        super().__init__(config)
        self.params = p = DHTParams.model_validate(config["params"])
        self.rng = random.Random(config["seed"])
        everyone = sorted(self.members, key=lambda m: (m["name"], m.get("instance", 0)))
        self.addrs = [(m["ip"], p.port + m.get("port_shift", 0)) for m in everyone]
        self.addr = (self.me["ip"], p.port + self.me.get("port_shift", 0))
        self.rank = self.addrs.index(self.addr)
        self.node: Optional[Node] = None  # while joined
        self.dropped = 0
        self.misplaced = 0

    async def main(self) -> None:
        self.began = time.monotonic()
        loop = asyncio.get_running_loop()
        tasks = [loop.create_task(self._lives()), loop.create_task(self._lookups())]
        await self.until_stopped()
        # cancelled, not left to notice: a lookup or a finger fix amid peers that have
        # already stopped waits a timeout per dead peer, and would outlast the 2 s
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        self.report({"event": "dropped", "value": self.dropped, "misplaced": self.misplaced})

    async def _lives(self) -> None:
        life = 0
        while self.running:
            life = await self._live(life)

    async def _live(self, life: int) -> int:
        """One life: join, keep the tables up until stopped or failed; the next life's
        number."""
        p = self.params
        ip, port = self.addr
        node = Node(Ref(ident(f"{ip}:{port}#{life}"), ip, port), p.successors, p.timeout,
                    pred_expiry=3 * p.stabilise)
        await node.open()
        try:
            if life == 0:
                await self._sleep(self.rank * p.join_gap - self._age())
            if not await self._join(node, life, alone=life == 0 and self.rank == 0):
                return life
            self.report({"event": "joined", "id": f"{node.me.id:040x}", "life": life})
            self.node = node
            fail_at = self._age() + self._next_failure()
            next_stabilise = next_fix = next_pointers = 0.0
            next_check = CHECK_PLACE_S
            first_pass = True  # the whole finger table at once, then a finger at a time
            while self.running and self._age() < fail_at:
                if not node.successors:  # every successor failed: join again
                    await self._join(node, life, alone=False)
                if self._age() >= next_stabilise:
                    await node.stabilise()
                    next_stabilise = self._age() + p.stabilise * self.rng.uniform(0.5, 1.5)
                if self._age() >= next_fix:
                    first_pass = not await node.fix_finger() and first_pass
                    next_fix = self._age() + (0.0 if first_pass else
                                              p.fix_fingers * self.rng.uniform(0.5, 1.5))
                if self._age() >= next_check:
                    await node.check_place()
                    next_check = self._age() + CHECK_PLACE_S * self.rng.uniform(0.5, 1.5)
                if self._age() >= next_pointers:
                    self.report({"event": "pointers", "id": f"{node.me.id:040x}",
                                 "succ": [f"{n.id:040x}" for n in node.successors[:1]],
                                 "pred": f"{node.pred.id:040x}" if node.pred else None})
                    next_pointers = self._age() + POINTERS_S
                await self._sleep(min(next_stabilise, next_fix, next_pointers, next_check, fail_at)
                                  - self._age())
            if not self.running:
                return life
            self.report({"event": "failed", "id": f"{node.me.id:040x}", "life": life})
        finally:
            self.node = None
            self.dropped += node.bad
            self.misplaced += node.misplaced
            node.close()
        await self._sleep(p.down)
        return life + 1

    async def _join(self, node: Node, life: int, alone: bool) -> bool:
        """Through the first member (which, `alone`, starts the ring: in its first life),
        or through any member when that fails; retried until it works or the agent
        stops."""
        if alone:
            node.successors = [node.me]
            return True
        others = [a for a in self.addrs if a != self.addr]
        while self.running:
            first = [others[0]] if life == 0 else []
            for ip, port in first + self.rng.sample(others, min(3, len(others))):
                if await node.join([Ref(UNKNOWN, ip, port)]):
                    return True
            await self._sleep(0.5)
        return False

    def _next_failure(self) -> float:
        """Seconds from now to this life's failure: exponential with the churn rate,
        counted from `churn_from` (infinite without churn)."""
        p = self.params
        if p.churn <= 0:
            return float("inf")
        wait = max(0.0, p.churn_from - self._age())
        return wait + self.rng.expovariate(p.churn / 60.0)

    async def _lookups(self) -> None:
        p = self.params
        await self._sleep(p.start_after - self._age())
        done = 0
        while self.running and (p.lookups == 0 or done < p.lookups):
            await self._sleep(p.interval * self.rng.uniform(0.5, 1.5))
            node = self.node
            if node is None:
                continue
            key = self.rng.getrandbits(BITS)
            began, t = time.monotonic(), time.time()
            found = await node.lookup(key)
            if node is not self.node:
                continue  # failed meanwhile: a dead node's lookups do not count
            done += 1
            record: Dict[str, Any] = {"key": f"{key:040x}", "began": t,
                                      "timeouts": found.timeouts, "rpcs": found.rpcs}
            if found.answer is None:
                self.report({"metric": "answered", "value": 0, **record})
                continue
            record["answer"] = f"{found.answer.id:040x}"
            self.report({"metric": "answered", "value": 1, **record})
            self.report({"metric": "hops", "value": found.hops})
            self.report({"metric": "lookup_ms",
                         "value": round((time.monotonic() - began) * 1e3, 3)})

    def _age(self) -> float:
        return time.monotonic() - self.began

    async def _sleep(self, seconds: float) -> None:
        """Sleep, but wake at once when the agent is told to stop."""
        end = time.monotonic() + max(0.0, seconds)
        while self.running and time.monotonic() < end:
            await asyncio.sleep(min(0.25, end - time.monotonic()))


if __name__ == "__main__":
    from overlays.agent import main
    main(DHTAgent, "Chord DHT agent")
