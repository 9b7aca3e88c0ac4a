"""Bencoding (BEP 3), strict: what a peer or tracker sends is untrusted.

Integers `i<n>e` (no leading zeros, no -0), strings `<len>:<bytes>`, lists `l...e`,
dictionaries `d...e` with byte-string keys. Decoding refuses trailing bytes, nesting
deeper than MAX_DEPTH, strings longer than what is left, and anything malformed, with
one BencodeError saying where.
"""
from __future__ import annotations

from typing import Any, Dict, List, Tuple, Union

MAX_DEPTH = 32
Value = Union[int, bytes, List[Any], Dict[bytes, Any]]


class BencodeError(ValueError):
    pass


def encode(value: Any) -> bytes:
    if isinstance(value, bool):
        raise TypeError("bencoding has no booleans")
    if isinstance(value, int):
        return b"i%de" % value
    if isinstance(value, str):
        value = value.encode()
    if isinstance(value, (bytes, bytearray)):
        return b"%d:%s" % (len(value), bytes(value))
    if isinstance(value, (list, tuple)):
        return b"l" + b"".join(encode(v) for v in value) + b"e"
    if isinstance(value, dict):
        items = sorted((k.encode() if isinstance(k, str) else k, v) for k, v in value.items())
        return b"d" + b"".join(encode(k) + encode(v) for k, v in items) + b"e"
    raise TypeError(f"cannot bencode {type(value).__name__}")


def decode(data: bytes) -> Value:
    value, end = _decode(data, 0, 0)
    if end != len(data):
        raise BencodeError(f"trailing bytes at offset {end}")
    return value


def _decode(data: bytes, at: int, depth: int) -> Tuple[Value, int]:
    if depth > MAX_DEPTH:
        raise BencodeError(f"nested deeper than {MAX_DEPTH}")
    if at >= len(data):
        raise BencodeError(f"truncated at offset {at}")
    c = data[at:at + 1]
    if c == b"i":
        end = data.find(b"e", at)
        digits = data[at + 1:end] if end > 0 else b""
        if (end < 0 or not digits or not digits.lstrip(b"-").isdigit()
                or digits.startswith(b"-0") or (digits.startswith(b"0") and digits != b"0")
                or len(digits) > 40):
            raise BencodeError(f"bad integer at offset {at}")
        return int(digits), end + 1
    if c == b"l" or c == b"d":
        items: List[Any] = []
        at += 1
        while True:
            if at >= len(data):
                raise BencodeError("unterminated list or dictionary")
            if data[at:at + 1] == b"e":
                break
            item, at = _decode(data, at, depth + 1)
            items.append(item)
        if c == b"l":
            return items, at + 1
        if len(items) % 2 or not all(isinstance(k, bytes) for k in items[::2]):
            raise BencodeError("a dictionary needs byte-string keys, each with a value")
        return dict(zip(items[::2], items[1::2])), at + 1
    if c.isdigit():
        colon = data.find(b":", at)
        if colon < 0 or colon - at > 10 or not data[at:colon].isdigit():
            raise BencodeError(f"bad string length at offset {at}")
        length = int(data[at:colon])
        if colon + 1 + length > len(data):
            raise BencodeError(f"string of {length} bytes runs past the end")
        return data[colon + 1:colon + 1 + length], colon + 1 + length
    raise BencodeError(f"unexpected byte {c!r} at offset {at}")
