"""The edge's cache: byte-bounded, LRU or LFU, with HTTP freshness. Pure (no I/O).

Capacity counts body bytes. An object larger than the whole cache is never stored. LRU
evicts the least recently used entry; LFU the least frequently used (ties: the least
recently used among them), both in O(1) per operation, since an edge serves thousands of
requests a second. Freshness (RFC 9111): an entry stored with `max-age` is fresh until
then; a stale entry is kept for revalidation (a conditional GET with its ETag) and freshened
by a 304.
"""
from __future__ import annotations

from collections import OrderedDict, defaultdict
from dataclasses import dataclass
from typing import Dict, List, Optional


@dataclass
class Entry:
    body: bytes
    size: int
    etag: str
    last_modified: str
    expires: float  # monotonic time after which it must be revalidated

    def fresh(self, now: float) -> bool:
        return now < self.expires


class Cache:
    def __init__(self, capacity: int, policy: str = "lru"):
        if policy not in ("lru", "lfu"):
            raise ValueError(f"unknown cache policy {policy!r}")
        self.capacity, self.policy, self.used = capacity, policy, 0
        self.entries: Dict[str, Entry] = {}
        self._recency: "OrderedDict[str, None]" = OrderedDict()  # lru: oldest first
        self._freq: Dict[str, int] = {}  # lfu: key -> uses
        self._buckets: Dict[int, "OrderedDict[str, None]"] = defaultdict(OrderedDict)
        self._min_freq = 0

    def __contains__(self, key: str) -> bool:
        return key in self.entries

    def __len__(self) -> int:
        return len(self.entries)

    def get(self, key: str) -> Optional[Entry]:
        """The entry (fresh or stale), counted as a use; None if not cached."""
        entry = self.entries.get(key)
        if entry is not None:
            self._touch(key)
        return entry

    def put(self, key: str, entry: Entry) -> List[str]:
        """Store (or replace) an entry; returns the keys evicted to make room."""
        if key in self.entries:
            self._remove(key)
        if entry.size > self.capacity:
            return []
        evicted = []
        while self.used + entry.size > self.capacity:
            victim = self._victim()
            self._remove(victim)
            evicted.append(victim)
        self.entries[key] = entry
        self.used += entry.size
        if self.policy == "lru":
            self._recency[key] = None
        else:
            self._freq[key] = 1
            self._buckets[1][key] = None
            self._min_freq = 1
        return evicted

    def _touch(self, key: str) -> None:
        if self.policy == "lru":
            self._recency.move_to_end(key)
            return
        f = self._freq[key]
        bucket = self._buckets[f]
        del bucket[key]
        if not bucket:
            del self._buckets[f]
            if self._min_freq == f:
                self._min_freq = f + 1
        self._freq[key] = f + 1
        self._buckets[f + 1][key] = None

    def _victim(self) -> str:
        if self.policy == "lru":
            return next(iter(self._recency))
        if self._min_freq not in self._buckets:  # a removal emptied the lowest bucket
            self._min_freq = min(self._buckets)
        return next(iter(self._buckets[self._min_freq]))

    def _remove(self, key: str) -> None:
        entry = self.entries.pop(key)
        self.used -= entry.size
        if self.policy == "lru":
            del self._recency[key]
            return
        f = self._freq.pop(key)
        bucket = self._buckets[f]
        del bucket[key]
        if not bucket:
            del self._buckets[f]
