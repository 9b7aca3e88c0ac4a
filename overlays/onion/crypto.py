"""The circuit's cryptography: one key exchange per hop and one layer of encryption per hop
and direction (after Tor's ntor handshake and relay crypto, tor-spec §5; simplified, and
not audited: for teaching and measurement, never for real anonymity).

Handshake. A relay publishes a static X25519 onion key B. To extend a circuit to it, the
client sends an ephemeral X; the relay answers with an ephemeral Y and an authenticator.
Both sides compute x·Y | x·B (= y·X | b·X) and derive, with HKDF-SHA256, the hop's keys:
forward and backward AES-128-CTR keys, forward and backward digest seeds, and the key of
the authenticator, which proves to the client that the relay holds b (nobody else can
answer for it). Only the client and that hop learn the keys.

Layers. Each direction of each hop is a `Layer`: an AES-CTR stream that runs on for the
circuit's life (so equal cells never look equal) and a running SHA-256 digest of the
relay payloads it originated or recognised. A hop recognises a cell meant for it when
its layer's decryption gives `recognized` = 0 and the digest matches; otherwise it passes
the cell on. A flipped bit anywhere makes the digest fail where the cell is meant to be
read, and the circuit is torn down there.
"""
from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from typing import Tuple

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from .cells import DIGEST_AT

PROTOCOL = b"testbed-onion-1"
KEY_BYTES = 16 + 16 + 32 + 32 + 32  # Kf, Kb, Df, Db, Kauth
HANDSHAKE = 32 + 32 + 32  # relay id (digest of B), B, X
CREATED_LEN = 32 + 32  # Y, auth


class HandshakeError(ValueError):
    """A handshake that names another relay or whose authenticator does not verify."""


def raw(public: X25519PublicKey) -> bytes:
    return public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def relay_id(onion_key: bytes) -> bytes:
    """A relay's identity on the wire: the digest of its public onion key."""
    return hashlib.sha256(PROTOCOL + onion_key).digest()


class Layer:
    """One hop's encryption in one direction, with its running digest."""

    def __init__(self, key: bytes, digest_seed: bytes):
        self.cipher = Cipher(algorithms.AES(key), modes.CTR(bytes(16))).encryptor()
        self.digest = hashlib.sha256(digest_seed)

    def crypt(self, payload: bytes) -> bytes:
        """Add or remove this layer (CTR: the same operation)."""
        return self.cipher.update(payload)

    def seal(self, plain: bytes) -> bytes:
        """The payload this hop originates: digest written in, then this layer added."""
        self.digest.update(plain)  # plain carries a zero digest
        sealed = plain[:DIGEST_AT.start] + self.digest.digest()[:4] + plain[DIGEST_AT.stop:]
        return self.crypt(sealed)

    def recognise(self, plain: bytes) -> bool:
        """Whether a payload with this layer removed is meant for this hop; if so the
        running digest moves on (it must see exactly the cells the other end sealed)."""
        if plain[1:3] != b"\0\0":
            return False
        zeroed = plain[:DIGEST_AT.start] + b"\0\0\0\0" + plain[DIGEST_AT.stop:]
        trial = self.digest.copy()
        trial.update(zeroed)
        if not hmac.compare_digest(trial.digest()[:4], plain[DIGEST_AT]):
            return False
        self.digest = trial
        return True


@dataclass
class HopKeys:
    forward: Layer  # client -> relay
    backward: Layer  # relay -> client


def _derive(secret: bytes, rid: bytes, b: bytes, x: bytes, y: bytes) -> Tuple[HopKeys, bytes]:
    material = HKDF(hashes.SHA256(), KEY_BYTES, salt=PROTOCOL, info=rid + b + x + y).derive(secret)
    kf, kb, df, db, kauth = (material[:16], material[16:32], material[32:64],
                             material[64:96], material[96:])
    auth = hmac.new(kauth, PROTOCOL + b"created" + x + y, hashlib.sha256).digest()
    return HopKeys(Layer(kf, df), Layer(kb, db)), auth


class ClientHandshake:
    """The client's side toward one relay, from its published onion key."""

    def __init__(self, onion_key: bytes):
        self.b = onion_key
        self.x = X25519PrivateKey.generate()
        self.x_pub = raw(self.x.public_key())

    def create(self) -> bytes:
        return relay_id(self.b) + self.b + self.x_pub

    def finish(self, created: bytes) -> HopKeys:
        y, auth = created[:32], created[32:CREATED_LEN]
        try:
            y_key = X25519PublicKey.from_public_bytes(y)
            secret = self.x.exchange(y_key) + self.x.exchange(
                X25519PublicKey.from_public_bytes(self.b))
        except ValueError as e:
            raise HandshakeError(f"bad key from the relay: {e}") from None
        keys, expected = _derive(secret, relay_id(self.b), self.b, self.x_pub, y)
        if not hmac.compare_digest(auth, expected):
            raise HandshakeError("the relay's authenticator does not verify: not the relay "
                                 "whose onion key the consensus lists")
        return keys


def server_handshake(onion: X25519PrivateKey, create: bytes) -> Tuple[HopKeys, bytes]:
    """The relay's side: from a CREATE payload, its keys and the CREATED payload."""
    b = raw(onion.public_key())
    rid, named, x = create[:32], create[32:64], create[64:HANDSHAKE]
    if rid != relay_id(b) or named != b:
        raise HandshakeError("the handshake is for another relay")
    y = X25519PrivateKey.generate()
    y_pub = raw(y.public_key())
    try:
        x_key = X25519PublicKey.from_public_bytes(x)
        secret = y.exchange(x_key) + onion.exchange(x_key)
    except ValueError as e:
        raise HandshakeError(f"bad key from the client: {e}") from None
    keys, auth = _derive(secret, rid, b, x, y_pub)
    return keys, y_pub + auth
