"""OpenFlow 1.3 app that turns each OVS switch into an IP router, as the plan says.

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

Progress is reported as JSON lines on stdout (`switch_connected`, `routes_installed`), which
the harness reads to know when the network is ready.
"""
from __future__ import annotations

import ipaddress
import json
import time
from typing import Any, Dict, Optional, Set

from . import framework as fw

ofproto = fw.ofproto_v1_3
ICMP_TIME_EXCEEDED = 11
ICMP_DEST_UNREACH = 3
ICMP_PORT_UNREACH = 3


def emit(event: str, **fields: Any) -> None:
    print(json.dumps({"t": round(time.time(), 6), "event": event, **fields}), flush=True)


class RouterApp(fw.App):
    OFP_VERSIONS = [ofproto.OFP_VERSION]
    plan_path: Optional[str] = None  # set by the launcher before the app is instantiated

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        with open(self.plan_path or "", encoding="utf-8") as f:
            self.plan: Dict[str, Any] = json.load(f)
        self.switches: Dict[int, Dict[str, Any]] = {int(k): v for k, v in self.plan["switches"].items()}
        self.datapaths: Dict[int, Any] = {}
        self.pending_barriers: Set[int] = set()  # switches whose barrier reply is due
        self.started = time.time()
        self.installed = False
        self.flows = 0
        self.local_ips: Dict[int, Dict[str, int]] = {
            dpid: {p["ip"]: int(port) for port, p in sw["ports"].items()}
            for dpid, sw in self.switches.items()}

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
        if self.installed:
            self._install(dp)  # a switch that reconnected later gets its flows again
        elif len(self.datapaths) == len(self.switches):
            for dpid in sorted(self.datapaths):
                self._install(self.datapaths[dpid])

    def _install(self, dp: Any) -> None:
        parser = dp.ofproto_parser
        sw = self.switches[dp.id]
        prio = self.plan["priorities"]
        dp.send_msg(parser.OFPFlowMod(dp, command=ofproto.OFPFC_DELETE, table_id=ofproto.OFPTT_ALL,
                                      out_port=ofproto.OFPP_ANY, out_group=ofproto.OFPG_ANY,
                                      match=parser.OFPMatch()))
        to_controller = [parser.OFPActionOutput(ofproto.OFPP_CONTROLLER, ofproto.OFPCML_NO_BUFFER)]
        self._flow(dp, prio["arp"], parser.OFPMatch(eth_type=fw.ether.ETH_TYPE_ARP), to_controller)
        for port in sw["ports"].values():
            self._flow(dp, prio["local"], parser.OFPMatch(eth_type=fw.ether.ETH_TYPE_IP,
                                                          ipv4_dst=port["ip"]), to_controller)
        for route in sw["routes"]:
            net = ipaddress.IPv4Network(route["prefix"])
            match = parser.OFPMatch(eth_type=fw.ether.ETH_TYPE_IP,
                                    ipv4_dst=(str(net.network_address), str(net.netmask)))
            actions = [parser.OFPActionDecNwTtl(),
                       parser.OFPActionSetField(eth_src=route["src_mac"]),
                       parser.OFPActionSetField(eth_dst=route["dst_mac"]),
                       parser.OFPActionOutput(route["port"])]
            self._flow(dp, route["priority"], match, actions)
        dp.send_msg(parser.OFPBarrierRequest(dp))
        self.pending_barriers.add(dp.id)

    def _flow(self, dp: Any, priority: int, match: Any, actions: Any) -> None:
        parser = dp.ofproto_parser
        inst = [parser.OFPInstructionActions(ofproto.OFPIT_APPLY_ACTIONS, actions)]
        dp.send_msg(parser.OFPFlowMod(dp, priority=priority, match=match, instructions=inst))
        self.flows += 1

    @fw.set_ev_cls(fw.ofp_event.EventOFPBarrierReply, fw.MAIN_DISPATCHER)
    def _barrier(self, ev: Any) -> None:
        self.pending_barriers.discard(ev.msg.datapath.id)
        if not self.pending_barriers and not self.installed and \
                len(self.datapaths) == len(self.switches):
            self.installed = True
            emit("routes_installed", switches=len(self.datapaths), flows=self.flows,
                 seconds=round(time.time() - self.started, 3))

    @fw.set_ev_cls(fw.ofp_event.EventOFPPortStatus, fw.MAIN_DISPATCHER)
    def _port_status(self, ev: Any) -> None:
        msg = ev.msg
        emit("port_status", dpid=msg.datapath.id, port=msg.desc.port_no, reason=msg.reason,
             link_down=bool(msg.desc.state & ofproto.OFPPS_LINK_DOWN))

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
