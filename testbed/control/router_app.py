"""OpenFlow 1.3 app that turns each OVS switch into an IP router.

It loads the topology, computes the tables with the same pure code the harness uses
(`RoutingState`: routes, plan), and installs them; it does no routing logic of its own.
Per switch, proactively once every switch of the plan has connected:
- ARP -> controller, which answers for the router's addresses (and proxy-ARPs on host LANs);
- the router's own addresses -> controller, which answers ICMP echo and sends ICMP
  port-unreachable to UDP (so traceroute to a router address ends);
- one flow per route: match the destination prefix (priority grows with prefix length, so
  the longest prefix wins), decrement TTL, rewrite MACs, output;
- TTL expiry: OVS's dec_ttl raises an INVALID_TTL packet-in (enabled with OFPSetAsync,
  which OVS keeps off by default); the controller answers ICMP time-exceeded from the
  ingress interface's address, which is what makes `traceroute` list every router.
Generated replies go out through OFPP_TABLE, i.e. they are routed like any packet.

Failures: a port-status change updates the link state; the IGP part is reinstalled at
once (only changed flows), and `convergence_delay` later BGP takes in the change and the
AS-level routes are reinstalled (`RoutingState`).

Events are JSON lines on stdout with a timestamp `t` (`switch_connected`,
`routes_installed`, `link_down`/`link_up`, `igp_updated`, `bgp_converged`), which the
harness reads to know when the network is ready and the experiment layer records.
"""
from __future__ import annotations

import ipaddress
import signal
import time
from typing import Any, Dict, List, Optional, Set

from ..model import load_topology
from . import framework as fw
from .events import emit
from .state import RoutingState

ofproto = fw.ofproto_v1_3
ICMP_TIME_EXCEEDED = 11
ICMP_DEST_UNREACH = 3
ICMP_PORT_UNREACH = 3


class RouterApp(fw.App):
    OFP_VERSIONS = [ofproto.OFP_VERSION]
    # set by the launcher before the app is instantiated
    topology_path: Optional[str] = None
    convergence_delay_ms: Optional[float] = None

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        net = load_topology(self.topology_path or "")
        if self.convergence_delay_ms is not None:
            net.convergence_delay_ms = self.convergence_delay_ms
        self.state = RoutingState(net)
        self.plan: Dict[str, Any] = self.state.plan()
        self.switches: Dict[int, Dict[str, Any]] = {int(k): v for k, v in self.plan["switches"].items()}
        self.installed: Dict[int, Dict[str, Dict[str, Any]]] = {}  # dpid -> prefix -> route
        self.datapaths: Dict[int, Any] = {}
        self.pending_barriers: Set[int] = set()  # switches whose barrier reply is due
        self.started = time.time()
        self.ready = False
        self.flows = 0
        self.local_ips: Dict[int, Dict[str, int]] = {
            dpid: {p["ip"]: int(port) for port, p in sw["ports"].items()}
            for dpid, sw in self.switches.items()}
        # SIGUSR1: the harness rewrote the topology file with a new policy; the handler only
        # sets a flag (green threads must not be spawned from a signal handler)
        self.reload_requested = False
        signal.signal(signal.SIGUSR1, self._request_reload)
        fw.hub.spawn(self._watch_reload)

    def _request_reload(self, *_: Any) -> None:
        self.reload_requested = True

    def _watch_reload(self) -> None:
        while True:
            fw.hub.sleep(0.02)
            if self.reload_requested:
                self.reload_requested = False
                delay = self.state.net.convergence_delay_ms / 1000.0
                emit("policy_changed", delay_s=delay)
                fw.hub.spawn_after(delay, self._apply_policy)

    def _apply_policy(self) -> None:
        """A policy change spreads like a BGP update: the convergence delay after the
        change, the new AS-level choice (and IGP routes under it) is installed."""
        net = load_topology(self.topology_path or "")
        net.convergence_delay_ms = self.state.net.convergence_delay_ms
        old = self.state
        self.state = RoutingState(net, old.down, old.bgp_down)
        self.state.down_ports = old.down_ports
        self._reinstall("policy_applied")

    # --- connection and installation -------------------------------------------------
    @fw.set_ev_cls(fw.ofp_event.EventOFPSwitchFeatures, fw.CONFIG_DISPATCHER)
    def _features(self, ev: Any) -> None:
        dp = ev.msg.datapath
        if dp.id not in self.switches:
            self.logger.warning("switch %016x is not in the plan; ignoring it", dp.id)
            return
        parser = dp.ofproto_parser
        dp.send_msg(parser.OFPSetConfig(dp, ofproto.OFPC_FRAG_NORMAL, 0xffff))
        packet_in = (1 << ofproto.OFPR_NO_MATCH | 1 << ofproto.OFPR_ACTION |
                     1 << ofproto.OFPR_INVALID_TTL)
        dp.send_msg(parser.OFPSetAsync(dp, [packet_in, 0], [0x7, 0x7], [0x7, 0x7]))
        self.datapaths[dp.id] = dp
        emit("switch_connected", dpid=dp.id, router=self.switches[dp.id]["name"],
             connected=len(self.datapaths), expected=len(self.switches))
        if self.ready:
            self._install(dp)  # a switch that reconnected later gets its flows again
        elif len(self.datapaths) == len(self.switches):
            for dpid in sorted(self.datapaths):
                self._install(self.datapaths[dpid])

    def _install(self, dp: Any) -> None:
        parser = dp.ofproto_parser
        sw = self.plan["switches"][str(dp.id)]  # the current plan, also on a reconnect
        prio = self.plan["priorities"]
        dp.send_msg(parser.OFPFlowMod(dp, command=ofproto.OFPFC_DELETE, table_id=ofproto.OFPTT_ALL,
                                      out_port=ofproto.OFPP_ANY, out_group=ofproto.OFPG_ANY,
                                      match=parser.OFPMatch()))
        to_controller = [parser.OFPActionOutput(ofproto.OFPP_CONTROLLER, ofproto.OFPCML_NO_BUFFER)]
        self._flow(dp, prio["arp"], parser.OFPMatch(eth_type=fw.ether.ETH_TYPE_ARP), to_controller)
        for port in sw["ports"].values():
            self._flow(dp, prio["local"], parser.OFPMatch(eth_type=fw.ether.ETH_TYPE_IP,
                                                          ipv4_dst=port["ip"]), to_controller)
        self.installed[dp.id] = {}
        self._routes(dp, sw["routes"])
        dp.send_msg(parser.OFPBarrierRequest(dp))
        self.pending_barriers.add(dp.id)

    @staticmethod
    def _match(dp: Any, prefix: str) -> Any:
        net = ipaddress.IPv4Network(prefix)
        return dp.ofproto_parser.OFPMatch(eth_type=fw.ether.ETH_TYPE_IP,
                                          ipv4_dst=(str(net.network_address), str(net.netmask)))

    def _routes(self, dp: Any, routes: List[Dict[str, Any]]) -> None:
        """Add or replace route flows (same match and priority replaces)."""
        parser = dp.ofproto_parser
        for route in routes:
            actions = [parser.OFPActionDecNwTtl(),
                       parser.OFPActionSetField(eth_src=route["src_mac"]),
                       parser.OFPActionSetField(eth_dst=route["dst_mac"]),
                       parser.OFPActionOutput(route["port"])]
            self._flow(dp, route["priority"], self._match(dp, route["prefix"]), actions)
            self.installed[dp.id][route["prefix"]] = route

    def _reinstall(self, event: str, **fields: Any) -> None:
        """Install the current plan as a diff against what each switch has."""
        self.plan = self.state.plan()
        changed = 0
        for dpid, dp in self.datapaths.items():
            wanted = {r["prefix"]: r for r in self.plan["switches"][str(dpid)]["routes"]}
            have = self.installed.setdefault(dpid, {})
            gone = sorted(set(have) - set(wanted))
            for prefix in gone:
                dp.send_msg(dp.ofproto_parser.OFPFlowMod(
                    dp, command=ofproto.OFPFC_DELETE_STRICT, priority=have.pop(prefix)["priority"],
                    out_port=ofproto.OFPP_ANY, out_group=ofproto.OFPG_ANY,
                    match=self._match(dp, prefix)))
            update = [r for p, r in sorted(wanted.items()) if have.get(p) != r]
            self._routes(dp, update)
            changed += len(update) + len(gone)
        emit(event, flows_changed=changed, down=sorted(self.state.down),
             bgp_down=sorted(self.state.bgp_down), **fields)

    def _flow(self, dp: Any, priority: int, match: Any, actions: Any) -> None:
        parser = dp.ofproto_parser
        inst = [parser.OFPInstructionActions(ofproto.OFPIT_APPLY_ACTIONS, actions)]
        dp.send_msg(parser.OFPFlowMod(dp, priority=priority, match=match, instructions=inst))
        self.flows += 1

    @fw.set_ev_cls(fw.ofp_event.EventOFPBarrierReply, fw.MAIN_DISPATCHER)
    def _barrier(self, ev: Any) -> None:
        self.pending_barriers.discard(ev.msg.datapath.id)
        if not self.pending_barriers and not self.ready and \
                len(self.datapaths) == len(self.switches):
            self.ready = True
            emit("routes_installed", switches=len(self.datapaths), flows=self.flows,
                 seconds=round(time.time() - self.started, 3))

    @fw.set_ev_cls(fw.ofp_event.EventOFPPortStatus, fw.MAIN_DISPATCHER)
    def _port_status(self, ev: Any) -> None:
        msg = ev.msg
        if msg.datapath.id not in self.switches:
            return
        is_down = msg.reason == ofproto.OFPPR_DELETE or bool(msg.desc.state & ofproto.OFPPS_LINK_DOWN)
        router = self.switches[msg.datapath.id]["name"]
        change = self.state.port_changed(router, msg.desc.port_no, is_down)
        if change is None:
            return
        link, down = change
        spec = self.state.net.links[link]
        emit("link_down" if down else "link_up", link=link, a=spec.a, b=spec.b, kind=spec.kind)
        self._reinstall("igp_updated", link=link)
        seen = self.state.down
        delay = self.state.net.convergence_delay_ms / 1000.0
        fw.hub.spawn_after(delay, self._bgp_converge, seen, link)

    def _bgp_converge(self, seen: Any, link: int) -> None:
        if self.state.bgp_converge(seen):
            self._reinstall("bgp_converged", link=link,
                            delay_s=self.state.net.convergence_delay_ms / 1000.0)

    # --- packets for the control plane ------------------------------------------------
    @fw.set_ev_cls(fw.ofp_event.EventOFPPacketIn, fw.MAIN_DISPATCHER)
    def _packet_in(self, ev: Any) -> None:
        msg = ev.msg
        dp = msg.datapath
        if dp.id not in self.switches:
            return
        in_port = msg.match["in_port"]
        port = self.switches[dp.id]["ports"].get(str(in_port))
        pkt = fw.packet.Packet(msg.data)
        eth = pkt.get_protocol(fw.ethernet.ethernet)
        if eth is None or port is None:
            return
        arp_pkt = pkt.get_protocol(fw.arp.arp)
        if arp_pkt is not None:
            self._arp(dp, in_port, port, eth, arp_pkt)
            return
        ip = pkt.get_protocol(fw.ipv4.ipv4)
        if ip is None:
            return
        if msg.reason == ofproto.OFPR_INVALID_TTL:
            self._icmp_error(dp, port, ip, msg.data, ICMP_TIME_EXCEEDED, 0)
        elif ip.dst in self.local_ips[dp.id]:
            self._local(dp, port, pkt, ip, msg.data)

    def _arp(self, dp: Any, in_port: int, port: Dict[str, Any], eth: Any, req: Any) -> None:
        if req.opcode != fw.arp.ARP_REQUEST:
            return
        target = req.dst_ip
        answer = target == port["ip"]
        if not answer and port["proxy_arp"] and target != req.src_ip:
            lan = ipaddress.IPv4Network(f"{port['ip']}/{port['prefixlen']}", strict=False)
            answer = ipaddress.IPv4Address(target) in lan
        if not answer:
            return
        reply = fw.packet.Packet()
        reply.add_protocol(fw.ethernet.ethernet(ethertype=fw.ether.ETH_TYPE_ARP,
                                                dst=eth.src, src=port["mac"]))
        reply.add_protocol(fw.arp.arp(opcode=fw.arp.ARP_REPLY, src_mac=port["mac"],
                                      src_ip=target, dst_mac=req.src_mac, dst_ip=req.src_ip))
        self._send(dp, reply, in_port)

    def _local(self, dp: Any, port: Dict[str, Any], pkt: Any, ip: Any, data: bytes) -> None:
        echo = pkt.get_protocol(fw.icmp.icmp)
        if echo is not None and echo.type == fw.icmp.ICMP_ECHO_REQUEST:
            self._reply(dp, ip.dst, ip.src, fw.icmp.icmp(type_=fw.icmp.ICMP_ECHO_REPLY, code=0,
                                                         data=echo.data))
        elif pkt.get_protocol(fw.udp.udp) is not None:
            self._icmp_error(dp, {"ip": ip.dst}, ip, data, ICMP_DEST_UNREACH, ICMP_PORT_UNREACH)

    def _icmp_error(self, dp: Any, port: Dict[str, Any], ip: Any, frame: bytes, type_: int,
                    code: int) -> None:
        """ICMP error quoting the offending IP header plus 8 bytes (RFC 792)."""
        if ip.proto == fw.inet.IPPROTO_ICMP and frame[14 + ip.header_length * 4] not in (0, 8):
            return  # never answer an ICMP error with an ICMP error
        quoted = frame[14:14 + ip.header_length * 4 + 8]
        body = (fw.icmp.TimeExceeded(data=quoted) if type_ == ICMP_TIME_EXCEEDED
                else fw.icmp.dest_unreach(data=quoted))
        self._reply(dp, port["ip"], ip.src, fw.icmp.icmp(type_=type_, code=code, data=body))

    def _reply(self, dp: Any, src: str, dst: str, payload: Any) -> None:
        out = fw.packet.Packet()
        out.add_protocol(fw.ethernet.ethernet(ethertype=fw.ether.ETH_TYPE_IP))
        out.add_protocol(fw.ipv4.ipv4(src=src, dst=dst, proto=fw.inet.IPPROTO_ICMP, ttl=64))
        out.add_protocol(payload)
        self._send(dp, out, ofproto.OFPP_TABLE)

    @staticmethod
    def _send(dp: Any, pkt: Any, out_port: int) -> None:
        pkt.serialize()
        parser = dp.ofproto_parser
        dp.send_msg(parser.OFPPacketOut(dp, buffer_id=ofproto.OFP_NO_BUFFER,
                                        in_port=ofproto.OFPP_CONTROLLER,
                                        actions=[parser.OFPActionOutput(out_port)],
                                        data=pkt.data))
