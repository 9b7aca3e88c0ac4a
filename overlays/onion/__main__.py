"""The onion agent: one process per member, running the roles the params give its host.

    python -m overlays.onion --config CONFIG.json   (the contract: overlays/README.md)

- authority (`params.authority`): lists relays' descriptors, serves the signed consensus
  on `dir_port` (authority.py);
- relay (`params.relays`): OR port, onion key, forwarding, exit streams (relay.py); it
  publishes its descriptor until the authority lists it;
- client (`params.clients`, default every other member): fetches the consensus until it
  lists every relay of the params (or 30 s pass), picks its guard, builds circuits on
  demand behind a SOCKS5 port on 127.0.0.1:`socks_port` (client.py), and runs the
  path-selection study of `params.sample` if asked.

Knobs and defaults: OnionParams (__init__.py). SIGTERM closes circuits (DESTROY),
servers and links, and the agent exits within the contract's 2 s.
"""
from __future__ import annotations

import asyncio
import json
import random
from typing import Any, Dict, List, Optional

from ..agent import AsyncAgent
from . import OnionParams
from .authority import Authority, fetch, publish
from .client import OnionProxy
from .directory import ConsensusError, Descriptor, authority_key, verify
from .path import NoPath, choose
from .relay import Relay

CONSENSUS_PATIENCE = 30.0


class OnionAgent(AsyncAgent):
    def __init__(self, config: Dict[str, Any]):
        super().__init__(config)
        self.params = OnionParams.model_validate(config["params"])
        self.names = {m["name"]: m["ip"] for m in self.members}
        self.asn_of = {m["ip"]: m["asn"] for m in self.members}
        view: Dict[str, Any] = {}
        if config.get("underlay"):
            with open(config["underlay"], encoding="utf-8") as f:
                view = json.load(f)
        self.as_paths = {int(a): {int(b): p for b, p in row.items()}
                         for a, row in view.get("as_paths", {}).items()}

        self.rtt_table: Dict[str, Dict[str, float]] = view.get("rtt_ms", {})
        self.by_ip = {m["ip"]: m["name"] for m in self.members}
        self.rng = random.Random(config["seed"])

    def rtt(self, a_ip: str, b_ip: str) -> Optional[float]:
        """Configured RTT between two members' addresses (None: not known)."""
        a, b = self.by_ip.get(a_ip), self.by_ip.get(b_ip)
        return self.rtt_table.get(a or "", {}).get(b or "")

    async def main(self) -> None:
        p, me = self.params, self.me
        auth_ip = self.names[p.authority]
        key = authority_key(self.config["overlay"], p.authority, self.config["t0"])
        closers = []
        if me["name"] == p.authority:
            authority = Authority(key, me["ip"], p.dir_port, self.report)
            await authority.start()
            closers.append(authority.close)
        spec = p.relay(me["name"])
        if spec is not None:
            relay = Relay(me, p.or_port, self.names, tuple(p.exit_policy), spec.exit, self.report)
            await relay.start()
            closers.append(relay.close)
            desc = relay.descriptor(spec.bandwidth, spec.guard, spec.family)
            while self.running and not await publish(auth_ip, p.dir_port, desc):
                await asyncio.sleep(0.2)
            self.report({"event": "published", "onion_key": desc.onion_key})
        proxy = None
        if self.running and me["name"] in p.client_hosts([m["name"] for m in self.members]):
            consensus = await self._consensus(key, auth_ip)
            if consensus:
                proxy = OnionProxy(me, consensus, p.hops, p.selection, p.lifetime,
                                   self.as_paths, self.asn_of, self.names, self.rtt, self.rng,
                                   self.report)
                await proxy.serve_socks(p.socks_port)
                closers.append(proxy.close)
                self.report({"event": "guard", "relay": proxy.guard.name})
                if p.prebuild:
                    host, _, port = p.prebuild.rpartition(":")
                    proxy.prebuild(self.names.get(host, host), int(port))
                await self._sample(proxy, consensus)
        await self.until_stopped()
        for close in reversed(closers):
            result = close()
            if asyncio.iscoroutine(result):
                await result

    async def _consensus(self, key: Any, auth_ip: str) -> List[Descriptor]:
        """The consensus once it lists every relay of the params, or what it lists after
        CONSENSUS_PATIENCE seconds."""
        wanted = {r.host for r in self.params.relays}
        loop = asyncio.get_running_loop()
        deadline = loop.time() + CONSENSUS_PATIENCE
        relays: List[Descriptor] = []
        while self.running:
            document = await fetch(auth_ip, self.params.dir_port)
            if document is not None:
                try:
                    relays = verify(key.public_key(), document)
                except ConsensusError as e:
                    self.report({"event": "bad_consensus", "why": str(e)})
            if wanted <= {d.name for d in relays} or loop.time() > deadline:
                break
            await asyncio.sleep(0.2)
        self.report({"event": "consensus", "relays": len(relays), "wanted": len(wanted)})
        return relays

    async def _sample(self, proxy: OnionProxy, consensus: List[Descriptor]) -> None:
        """The path-selection study (params.sample): choices only, nothing built; it
        yields to the loop between choices, so SIGTERM ends it within the 2 s."""
        s = self.params.sample
        targets = [self.names[d] for d in s.destinations] or \
            [m["ip"] for m in self.members if m["ip"] != self.me["ip"]]
        for _ in range(s.circuits):
            await asyncio.sleep(0)
            if not self.running:
                return
            dst = self.rng.choice(targets)
            try:
                c = choose(consensus, proxy.guard, self.params.hops, dst, s.port, self.rng,
                           self.params.selection, self.as_paths, self.me["asn"],
                           self.asn_of.get(dst))
            except NoPath as e:
                self.report({"event": "no_path", "dst_ip": dst, "why": str(e)})
                continue
            hops = [self.me["ip"]] + [r.ip for r in c.relays]
            rtts = [self.rtt(a, b) for a, b in zip(hops, hops[1:])] + \
                [self.rtt(hops[-1], dst)]
            record = {"metric": "as_shared", "value": int(bool(c.shared_ases)),
                      "shared": sorted(c.shared_ases), "safe": c.safe, "dst": dst,
                      "relays": [r.name for r in c.relays]}
            self.report(record)
            if all(r is not None for r in rtts):
                self.report({"metric": "circuit_rtt_ms", "value": round(sum(rtts), 3)})


if __name__ == "__main__":
    from overlays.agent import main
    main(OnionAgent, "onion routing agent")
