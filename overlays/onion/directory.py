"""The directory: relays' descriptors and the consensus the authority signs (pure parts).

A relay publishes a descriptor (its address, AS, OR port, public onion key, bandwidth,
flags, family and exit policy) to the authority; the authority lists every relay it has
heard from in a consensus, signed with Ed25519; clients fetch it, check the signature and
build circuits from it (tor's dir-spec, reduced to one authority and JSON).

The authority's key. A test network needs every member to know the authority's public key
before it starts; chutney writes the authorities' fingerprints into every torrc. Here the
key is derived from values every member's config holds (the deployment's name, the
authority's host and the trial's T=0), so no file is shared. The signature then catches a
corrupted or forged-by-mistake consensus, not an attacker who has read this module: the
network's privacy properties do not rest on it.
"""
from __future__ import annotations

import hashlib
import ipaddress
import json
from dataclasses import asdict, dataclass
from typing import Any, Dict, List, Tuple

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from .exitpolicy import exit_policy_accepts

MAX_CONSENSUS = 1 << 20  # bytes a client accepts


class ConsensusError(ValueError):
    """A consensus that does not parse or whose signature does not verify."""


@dataclass(frozen=True)
class Descriptor:
    name: str  # the member's host name
    ip: str
    asn: int
    or_port: int
    onion_key: str  # hex of the X25519 public key
    bandwidth: float  # Mbit/s: the weight of path selection
    guard: bool
    exit: bool
    family: str  # relays of one operator share it ("" alone)
    exit_policy: Tuple[str, ...]

    @classmethod
    def from_json(cls, d: Dict[str, Any]) -> "Descriptor":
        return cls(name=str(d["name"]), ip=str(ipaddress.IPv4Address(d["ip"])),
                   asn=int(d["asn"]), or_port=int(d["or_port"]),
                   onion_key=bytes.fromhex(d["onion_key"]).hex(),
                   bandwidth=float(d["bandwidth"]), guard=bool(d["guard"]),
                   exit=bool(d["exit"]), family=str(d["family"]),
                   exit_policy=tuple(str(r) for r in d["exit_policy"]))

    def accepts(self, ip: str, port: int) -> bool:
        """Whether this relay's exit policy lets it open a stream to ip:port (first
        matching rule; no rule matching: reject)."""
        return self.exit and exit_policy_accepts(self.exit_policy, ip, port)


def authority_key(overlay: str, authority: str, t0: float) -> Ed25519PrivateKey:
    seed = hashlib.sha256(f"onion-authority:{overlay}:{authority}:{t0!r}".encode()).digest()
    return Ed25519PrivateKey.from_private_bytes(seed)


def _canonical(body: Dict[str, Any]) -> bytes:
    return json.dumps(body, sort_keys=True, separators=(",", ":")).encode()


def sign(key: Ed25519PrivateKey, relays: List[Descriptor], published: float) -> bytes:
    body = {"published": published, "relays": [asdict(r) for r in relays]}
    return json.dumps({**body, "signature": key.sign(_canonical(body)).hex()}).encode()


def verify(public: Ed25519PublicKey, document: bytes) -> List[Descriptor]:
    """The relays of a consensus whose signature verifies; ConsensusError otherwise."""
    if len(document) > MAX_CONSENSUS:
        raise ConsensusError(f"consensus of {len(document)} bytes exceeds {MAX_CONSENSUS}")
    try:
        doc = json.loads(document)
        signature = bytes.fromhex(doc.pop("signature"))
        public.verify(signature, _canonical(doc))
        return [Descriptor.from_json(r) for r in doc["relays"]]
    except InvalidSignature:
        raise ConsensusError("the consensus's signature does not verify") from None
    except (ValueError, KeyError, TypeError, AttributeError) as e:
        raise ConsensusError(f"malformed consensus: {e}") from None
