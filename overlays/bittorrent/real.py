"""Real BitTorrent software beside the Python peer, to check that it speaks the protocol
and to compare it with a real client: opentracker as the tracker, transmission-cli as a
peer, mktorrent's metainfo (Debian packages opentracker, transmission-cli, mktorrent).

- opentracker (Debian's build) tracks only info hashes on its whitelist, refuses to run
  as root and drops to `nobody` after a chroot into its folder: the whitelist is written
  into a folder of its own, readable by anyone, named by its path inside the chroot.
- transmission-cli takes its settings from `settings.json` in its config folder: no DHT,
  local peer discovery, peer exchange or uTP (the swarm is the tracker's, over TCP, as
  the Python peer's), unencrypted connections preferred, the upload cap in kB/s. When it
  has verified every piece it runs its "finished" script (`-f`), which leaves a marker
  file (its progress line is no signal: stdout to a file is block-buffered, seconds
  late); the agent then checks every piece of the file on disk against the torrent's
  SHA-1 hashes itself.
- mktorrent makes the .torrent of a transmission member: its info dictionary (length,
  name, piece length, pieces) is the one metainfo.make writes, so its info hash must be
  the Python peers' — a member whose torrent differed would be alone in its own swarm.
"""
from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import IO, Optional, Set

from ..agent import Daemon
from .metainfo import Torrent


class Opentracker:
    def __init__(self, ip: str, port: int, info_hash: bytes, log: IO[bytes]):
        self.root = Path(tempfile.mkdtemp(prefix="testbed-opentracker-"))
        os.chmod(self.root, 0o755)
        (self.root / "whitelist").write_text(info_hash.hex() + "\n")
        os.chmod(self.root / "whitelist", 0o644)
        self.daemon = Daemon(["opentracker", "-i", ip, "-p", str(port), "-P", str(port),
                              "-w", "/whitelist", "-d", str(self.root)], log,
                             ready_port=port, ready_host=ip)

    def start(self) -> "Opentracker":
        self.daemon.start()
        return self

    def close(self) -> None:
        self.daemon.stop()
        shutil.rmtree(self.root, ignore_errors=True)


def mktorrent(content: Path, piece_length: int, announce: str, out: Path) -> bytes:
    """The .torrent mktorrent makes of `content` (piece_length a power of two)."""
    out.unlink(missing_ok=True)
    subprocess.run(["mktorrent", "-a", announce, "-l", str(piece_length.bit_length() - 1),
                    "-o", str(out), str(content)], check=True, capture_output=True, timeout=60)
    return out.read_bytes()


class Transmission:
    """transmission-cli on one torrent; `folder` holds its config and the download."""

    def __init__(self, torrent_file: Path, folder: Path, ip: str, port: int,
                 upload_mbit: float, log_path: Path):
        self.folder, self.log_path = folder, log_path
        config = folder / "config"
        config.mkdir(parents=True, exist_ok=True)
        up = round(upload_mbit * 125)  # kB/s, transmission's unit
        (config / "settings.json").write_text(json.dumps({
            "dht-enabled": False, "lpd-enabled": False, "pex-enabled": False,
            "utp-enabled": False, "port-forwarding-enabled": False, "encryption": 0,
            "bind-address-ipv4": ip, "peer-port": port, "peer-port-random-on-start": False,
            "speed-limit-up": max(up, 1), "speed-limit-up-enabled": upload_mbit > 0,
            "speed-limit-down-enabled": False, "ratio-limit-enabled": False,
            "idle-seeding-limit-enabled": False, "rpc-enabled": False, "message-level": 2}))
        self.marker = folder / "finished"
        self.marker.unlink(missing_ok=True)
        script = config / "finished.sh"
        script.write_text('#!/bin/sh\n: > "$TR_TORRENT_DIR/finished"\n')  # -w's folder
        script.chmod(0o755)
        self.log: Optional[IO[bytes]] = None
        self.argv = ["transmission-cli", "-g", str(config), "-w", str(folder), "-p", str(port),
                     "-et", "-D", *(["-u", str(max(up, 1))] if upload_mbit > 0 else ["-U"]),
                     "-f", str(script), str(torrent_file)]
        self.ip, self.port = ip, port
        self.daemon: Optional[Daemon] = None

    def start(self) -> "Transmission":
        self.log = open(self.log_path, "ab")
        self.daemon = Daemon(self.argv, self.log, ready_port=self.port, ready_host=self.ip,
                             timeout=20).start()
        return self

    def finished(self) -> bool:
        """Whether it has run its finished script: every piece downloaded and verified."""
        return self.marker.exists()

    def stop(self) -> None:
        if self.daemon is not None:
            self.daemon.stop()
        if self.log is not None:
            self.log.close()


def verified_pieces(path: Path, torrent: Torrent) -> Set[int]:
    """The pieces of the file at `path` that match the torrent's hashes."""
    good = set()
    try:
        with open(path, "rb") as f:
            for i, digest in enumerate(torrent.hashes):
                if hashlib.sha1(f.read(torrent.size_of(i))).digest() == digest:
                    good.add(i)
    except OSError:
        pass
    return good
