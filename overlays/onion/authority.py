"""The directory authority on the wire: HTTP/1.0 on its dir port, two requests.

    POST /descriptor   a relay's descriptor (JSON); 200 when it is listed
    GET /consensus     the signed consensus of every relay listed so far

and the two requests' client side (`publish`, `fetch`). Bodies are bounded; anything else
gets 400 or 404 and the connection closes.
"""
from __future__ import annotations

import asyncio
import json
import time
from dataclasses import asdict
from typing import Callable, Dict, Optional, Tuple

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from .directory import MAX_CONSENSUS, Descriptor, sign

MAX_DESCRIPTOR = 16 * 1024
TIMEOUT = 5.0


class Authority:
    def __init__(self, key: Ed25519PrivateKey, ip: str, port: int,
                 report: Callable[[Dict], None]):
        self.key, self.ip, self.port, self.report = key, ip, port, report
        self.relays: Dict[str, Descriptor] = {}
        self.server: Optional[asyncio.AbstractServer] = None

    async def start(self) -> None:
        self.server = await asyncio.start_server(self._serve, self.ip, self.port)

    def close(self) -> None:
        if self.server is not None:
            self.server.close()

    def consensus(self) -> bytes:
        return sign(self.key, sorted(self.relays.values(), key=lambda d: d.name), time.time())

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            method, path, body = await asyncio.wait_for(_read_request(reader), TIMEOUT)
            if method == "GET" and path == "/consensus":
                status, out = 200, self.consensus()
            elif method == "POST" and path == "/descriptor":
                d = Descriptor.from_json(json.loads(body))
                if d.name not in self.relays:
                    self.report({"event": "relay_listed", "relay": d.name})
                self.relays[d.name] = d
                status, out = 200, b"listed\n"
            else:
                status, out = 404, b"not found\n"
        except (ValueError, KeyError, TypeError, asyncio.TimeoutError,
                asyncio.IncompleteReadError, asyncio.LimitOverrunError):
            status, out = 400, b"bad request\n"
        except (ConnectionError, OSError):
            writer.close()
            return
        writer.write(f"HTTP/1.0 {status} X\r\nContent-Length: {len(out)}\r\n\r\n".encode() + out)
        try:
            await writer.drain()
        except (ConnectionError, OSError):
            pass
        writer.close()


async def _read_request(reader: asyncio.StreamReader) -> Tuple[str, str, bytes]:
    head = await reader.readuntil(b"\r\n\r\n")
    if len(head) > 4096:
        raise ValueError("request head too long")
    lines = head.decode("ascii", "replace").split("\r\n")
    method, path, *_ = lines[0].split(" ") + ["", ""]
    length = 0
    for line in lines[1:]:
        name, _, value = line.partition(":")
        if name.strip().lower() == "content-length":
            length = int(value)
    if not 0 <= length <= MAX_DESCRIPTOR:
        raise ValueError("body too long")
    return method, path, await reader.readexactly(length)


async def _request(ip: str, port: int, head: str, body: bytes = b"") -> Tuple[int, bytes]:
    reader, writer = await asyncio.wait_for(asyncio.open_connection(ip, port), TIMEOUT)
    try:
        writer.write(f"{head}\r\nContent-Length: {len(body)}\r\n\r\n".encode() + body)
        raw = await asyncio.wait_for(reader.read(MAX_CONSENSUS + 4096), TIMEOUT)
        while len(raw) <= MAX_CONSENSUS:
            more = await asyncio.wait_for(reader.read(65536), TIMEOUT)
            if not more:
                break
            raw += more
    finally:
        writer.close()
    head_bytes, _, payload = raw.partition(b"\r\n\r\n")
    status = int(head_bytes.split(b" ")[1]) if head_bytes.startswith(b"HTTP/") else 0
    return status, payload


async def publish(ip: str, port: int, descriptor: Descriptor) -> bool:
    body = json.dumps(asdict(descriptor)).encode()
    try:
        status, _ = await _request(ip, port, "POST /descriptor HTTP/1.0", body)
    except (OSError, asyncio.TimeoutError, ValueError, IndexError):
        return False
    return status == 200


async def fetch(ip: str, port: int) -> Optional[bytes]:
    try:
        status, body = await _request(ip, port, "GET /consensus HTTP/1.0")
    except (OSError, asyncio.TimeoutError, ValueError, IndexError):
        return None
    return body if status == 200 else None

