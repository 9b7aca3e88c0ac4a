"""torrc files of a private test network (pure), after chutney's templates
(torrc_templates/common.i, authority.i, relay-non-dir.tmpl, exit-v4.i, client.tmpl):

- every node: `TestingTorNetwork 1` (short timers, no distinct-subnet rule, private
  addresses allowed), chutney's fast-bootstrap options, the DirAuthority lines of every
  authority, logs in the data directory, `ShutdownWaitLength 0` so a relay stops at once
  on SIGTERM (the agent has 2 s);
- authorities: authoritative v3 directories (relays too), votes every
  `voting_interval` seconds (chutney: 20), every relay voted Guard, Exit and HSDir;
- relays: `Address` and `ORPort` on the member's address, `AssumeReachable` (a relay's
  self-test needs circuits through relays the consensus does not list yet, and tor 0.4.9
  in a 3-authority network never gets one: the relays then never publish; the emulated
  network is reachable by construction); exits accept everything,
  private addresses included (the emulated Internet is 10.0.0.0/8), and resolve nothing
  (`ServerDNSResolvConfFile /dev/null`: clients give addresses, not names);
- clients: a SocksPort on 127.0.0.1.
"""
from __future__ import annotations

from typing import List

COMMON = """\
TestingTorNetwork 1
PathsNeededToBuildCircuits 0.67
TestingDirAuthVoteExit *
TestingDirAuthVoteHSDir *
TestingDirAuthVoteGuard *
TestingMinExitFlagThreshold 0
V3AuthNIntervalsValid 2
DataDirectory {dir}
RunAsDaemon 0
Nickname {nick}
ShutdownWaitLength 0
SafeLogging 0
LogTimeGranularity 1
Log notice file {dir}/notice.log
Sandbox 0
"""

AUTHORITY = """\
AuthoritativeDirectory 1
V3AuthoritativeDirectory 1
ContactInfo {nick}@test.test
TestingV3AuthInitialVotingInterval {interval}
TestingV3AuthInitialVoteDelay 4
TestingV3AuthInitialDistDelay 4
V3AuthVotingInterval {interval}
V3AuthVoteDelay 4
V3AuthDistDelay 4
DirPort {ip}:{dir_port}
"""

RELAY = """\
SocksPort 0
AssumeReachable 1
Address {ip}
ORPort {ip}:{or_port}
ServerDNSDetectHijacking 0
ServerDNSTestAddresses
ServerDNSResolvConfFile /dev/null
"""

EXIT = """\
ExitRelay 1
ExitPolicyRejectPrivate 0
ExitPolicyRejectLocalInterfaces 0
ExitPolicy accept *:*
"""

NOT_EXIT = "ExitRelay 0\nExitPolicy reject *:*\n"

CLIENT = "SocksPort 127.0.0.1:{socks_port}\n"


def nickname(host: str) -> str:
    """tor's nicknames: 1-19 letters and digits."""
    return ("t" + "".join(c for c in host if c.isalnum()))[:19]


def dir_authority(host: str, ip: str, or_port: int, dir_port: int, v3ident: str,
                  fingerprint: str) -> str:
    return (f"DirAuthority {nickname(host)} orport={or_port} no-v2 v3ident={v3ident} "
            f"{ip}:{dir_port} {fingerprint}")


def torrc(role: str, host: str, ip: str, data_dir: str, authorities: List[str],
          or_port: int, dir_port: int, socks_port: int, exit: bool = False,
          interval: int = 20) -> str:
    """role: authority | relay | client."""
    values = dict(dir=data_dir, nick=nickname(host), ip=ip, or_port=or_port,
                  dir_port=dir_port, socks_port=socks_port, interval=interval)
    parts = [COMMON]
    if role in ("authority", "relay"):
        parts += [RELAY, EXIT if exit else NOT_EXIT]
    if role == "authority":
        parts.append(AUTHORITY)
    if role == "client":
        parts.append(CLIENT)
    return "".join(p.format(**values) for p in parts) + "".join(a + "\n" for a in authorities)
