"""The Tor agent: configures and supervises one `tor` daemon per member, by role.

    python -m overlays.tor --config CONFIG.json   (the contract: overlays/README.md)

1. An authority makes its keys (`tor-gencert`: identity, signing key, certificate; `tor
   --list-fingerprint`: its relay identity) and hands out its DirAuthority line on
   `keys_port` (one line per TCP connection): the test network's key distribution, which
   chutney does before it starts any tor.
2. Every member collects the DirAuthority lines of all authorities, writes its torrc
   (torrc.py) into a data directory beside its output (`<host>.tor/`: torrc, keys,
   notice.log, kept with the run) and starts tor as a supervised daemon.
3. It reports `bootstrap_s` (tor's start to "Bootstrapped 100%" in its notice log) and
   `bootstrapped` 1, or `bootstrapped` 0 after `bootstrap_timeout`.

SIGTERM stops tor (SIGTERM, `ShutdownWaitLength 0`; SIGKILL after 1 s) and the agent.
"""
from __future__ import annotations

import asyncio
import os
import subprocess
import time
from pathlib import Path
from typing import Any, Dict, List, Optional

from ..agent import AsyncAgent, Daemon
from . import TorParams
from .torrc import dir_authority, torrc

PASSPHRASE = "testbed\n"  # the test authorities' key passphrase (their keys stay local)


class TorAgent(AsyncAgent):
    def __init__(self, config: Dict[str, Any]):
        super().__init__(config)
        self.params = TorParams.model_validate(config["params"])
        self.ips = {m["name"]: m["ip"] for m in self.members}
        name = self.me["name"]
        p = self.params
        self.role = ("authority" if name in p.authorities else
                     "relay" if p.relay(name) is not None else
                     "client" if name in p.client_hosts(list(self.ips)) else None)
        self.dir = Path(config["output"]).with_suffix(".tor")

    async def main(self) -> None:
        if self.role is None:
            await self.until_stopped()
            return
        self.dir.mkdir(mode=0o700, parents=True, exist_ok=True)
        os.chmod(self.dir, 0o700)
        server = None
        if self.role == "authority":
            line = await asyncio.to_thread(self._authority_keys)
            server = await asyncio.start_server(lambda r, w: self._hand_out(line, w),
                                                self.me["ip"], self.params.keys_port)
        lines = await self._authority_lines()
        daemon = None
        if lines is not None:
            daemon = await asyncio.to_thread(self._start_tor, lines)
        if daemon is not None:
            watch = asyncio.get_running_loop().create_task(self._watch_bootstrap(time.monotonic()))
            await self.until_stopped()
            watch.cancel()
            await asyncio.to_thread(daemon.stop)
        else:
            await self.until_stopped()
        if server is not None:
            server.close()

    # --- keys ---------------------------------------------------------------------------
    def _authority_keys(self) -> str:
        p, ip = self.params, self.me["ip"]
        keys = self.dir / "keys"
        keys.mkdir(mode=0o700, exist_ok=True)
        subprocess.run(["tor-gencert", "--create-identity-key", "--passphrase-fd", "0",
                        "-i", str(keys / "authority_identity_key"),
                        "-s", str(keys / "authority_signing_key"),
                        "-c", str(keys / "authority_certificate"),
                        "-m", "12", "-a", f"{ip}:{p.dir_port}"],
                       input=PASSPHRASE, text=True, capture_output=True, check=True, timeout=60)
        v3ident = next(line.split()[1] for line in
                       (keys / "authority_certificate").read_text().splitlines()
                       if line.startswith("fingerprint"))
        return dir_authority(self.me["name"], ip, p.or_port, p.dir_port, v3ident,
                             self._fingerprint())

    def _fingerprint(self) -> str:
        done = subprocess.run(["tor", "--ignore-missing-torrc", "-f", str(self.dir / "none"),
                               "--orport", "1", "--datadirectory", str(self.dir),
                               "--list-fingerprint"], capture_output=True, text=True,
                              check=True, timeout=60)
        return "".join(done.stdout.strip().splitlines()[-1].split()[1:])

    async def _hand_out(self, line: str, writer: asyncio.StreamWriter) -> None:
        writer.write(line.encode() + b"\n")
        try:
            await writer.drain()
        except (ConnectionError, OSError):
            pass
        writer.close()

    async def _authority_lines(self) -> Optional[List[str]]:
        """Every authority's DirAuthority line, waiting for those not up yet."""
        lines: Dict[str, str] = {}
        deadline = time.monotonic() + self.params.bootstrap_timeout
        while self.running and len(lines) < len(self.params.authorities):
            for auth in self.params.authorities:
                if auth in lines:
                    continue
                try:
                    reader, writer = await asyncio.wait_for(asyncio.open_connection(
                        self.ips[auth], self.params.keys_port), 2)
                    data = await asyncio.wait_for(reader.readline(), 2)
                    writer.close()
                    if data.startswith(b"DirAuthority "):
                        lines[auth] = data.decode().strip()
                except (OSError, asyncio.TimeoutError):
                    pass
            if time.monotonic() > deadline:
                self.report({"metric": "bootstrapped", "value": 0, "role": self.role,
                             "why": "authorities' keys not reachable"})
                return None
            if len(lines) < len(self.params.authorities):
                await asyncio.sleep(0.3)
        return [lines[a] for a in self.params.authorities] if self.running else None

    # --- the daemon ---------------------------------------------------------------------
    def _start_tor(self, authorities: List[str]) -> Optional[Daemon]:
        p, name, ip = self.params, self.me["name"], self.me["ip"]
        relay = p.relay(name)
        text = torrc(self.role or "client", name, ip, str(self.dir), authorities, p.or_port,
                     p.dir_port, p.socks_port, exit=bool(relay and relay.exit),
                     interval=p.voting_interval)
        (self.dir / "torrc").write_text(text)
        log = open(self.dir / "stdout.log", "ab")
        port, host = ((p.socks_port, "127.0.0.1") if self.role == "client"
                      else (p.or_port, ip))
        try:
            daemon = Daemon(["tor", "-f", str(self.dir / "torrc")], log, ready_port=port,
                            ready_host=host, timeout=30).start()
        except Exception as e:  # DaemonError and what Popen raises: reported, not fatal
            self.report({"metric": "bootstrapped", "value": 0, "role": self.role,
                         "why": f"tor did not start: {e}"})
            return None
        finally:
            log.close()
        self.report({"event": "tor_started", "role": self.role})
        return daemon

    async def _watch_bootstrap(self, started: float) -> None:
        notice = self.dir / "notice.log"
        while time.monotonic() - started < self.params.bootstrap_timeout:
            if notice.exists() and "Bootstrapped 100%" in notice.read_text(errors="replace"):
                self.report({"metric": "bootstrap_s", "value": round(time.monotonic() - started, 3),
                             "role": self.role})
                self.report({"metric": "bootstrapped", "value": 1, "role": self.role})
                return
            await asyncio.sleep(0.25)
        self.report({"metric": "bootstrapped", "value": 0, "role": self.role,
                     "why": f"not bootstrapped within {self.params.bootstrap_timeout:g} s"})


if __name__ == "__main__":
    from overlays.agent import main
    main(TorAgent, "Tor network agent (authority, relay, client)")
