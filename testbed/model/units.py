"""Units users write in YAML: durations, rates, percentages.

Internally one unit per quantity: milliseconds, Mbit/s, percent — and seconds for the
times of an experiment (its duration, when things happen). A bare number is read in that
unit, so `delay: 5` and `delay: 5ms` mean the same, as do `at: 10` and `at: 10s`.
"""
from __future__ import annotations

import re
from typing import Union

_NUM = r"(\d+(?:\.\d*)?|\.\d+)"
_DURATION = re.compile(rf"^\s*{_NUM}\s*(us|ms|s)?\s*$")
_RATE = re.compile(rf"^\s*{_NUM}\s*(kbit|mbit|gbit|kbps|mbps|gbps)?\s*$", re.IGNORECASE)
_PERCENT = re.compile(rf"^\s*{_NUM}\s*%?\s*$")

DURATION_PATTERN = r"^\s*(\d+(\.\d*)?|\.\d+)\s*(us|ms|s)?\s*$"
RATE_PATTERN = r"^\s*(\d+(\.\d*)?|\.\d+)\s*([kKmMgG](bit|bps))?\s*$"
PERCENT_PATTERN = r"^\s*(\d+(\.\d*)?|\.\d+)\s*%?\s*$"

_TO_MS = {None: 1.0, "ms": 1.0, "us": 0.001, "s": 1000.0}
_TO_MBIT = {None: 1.0, "kbit": 0.001, "kbps": 0.001, "mbit": 1.0, "mbps": 1.0,
            "gbit": 1000.0, "gbps": 1000.0}


def _number(value: Union[str, int, float], pattern: "re.Pattern[str]", what: str,
            example: str) -> "tuple[float, str | None]":
    if isinstance(value, bool):
        raise ValueError(f"expected {what} like {example}, got a boolean")
    if isinstance(value, (int, float)):
        return float(value), None
    if not isinstance(value, str):
        raise ValueError(f"expected {what} like {example}")
    match = pattern.match(value)
    if not match:
        raise ValueError(f"'{value}' is not {what} (write it like {example})")
    unit = match.group(2).lower() if match.lastindex and match.lastindex >= 2 and match.group(2) else None
    return float(match.group(1)), unit


def parse_ms(value: Union[str, int, float]) -> float:
    """'5ms' -> 5.0, '1s' -> 1000.0, '250us' -> 0.25, 3 -> 3.0 (milliseconds)."""
    number, unit = _number(value, _DURATION, "a duration", "'5ms', '1.5ms' or '1s'")
    if number < 0:
        raise ValueError("a duration cannot be negative")
    return number * _TO_MS[unit]


def parse_seconds(value: Union[str, int, float]) -> float:
    """'10s' -> 10.0, '500ms' -> 0.5, 3 -> 3.0 (seconds)."""
    number, unit = _number(value, _DURATION, "a time", "'10s', '1.5s' or '500ms'")
    if number < 0:
        raise ValueError("a time cannot be negative")
    return number * _TO_MS[unit] / 1000.0 if unit else number


def parse_mbit(value: Union[str, int, float]) -> float:
    """'100Mbit' -> 100.0, '1Gbit' -> 1000.0, '512kbit' -> 0.512, 10 -> 10.0 (Mbit/s)."""
    number, unit = _number(value, _RATE, "a rate", "'100Mbit' or '1Gbit'")
    mbit = number * _TO_MBIT[unit]
    if mbit <= 0:
        raise ValueError("a bandwidth must be greater than 0")
    return mbit


def parse_percent(value: Union[str, int, float]) -> float:
    """'1%' -> 1.0, 0.5 -> 0.5 (percent, 0..100)."""
    number, _ = _number(value, _PERCENT, "a percentage", "'1%' or 0.5")
    if not 0 <= number <= 100:
        raise ValueError("a loss rate is a percentage between 0 and 100")
    return number
