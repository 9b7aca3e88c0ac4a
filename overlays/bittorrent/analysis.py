"""The swarm's metrics of one trial: leechers report `complete_s` (their start to the
last piece their client verified); every peer reports `uploaded_mib`, `downloaded_mib`
and the SHA-1 of each piece it holds (`pieces`) at its stop.

- `completion_mean_s`, `completion_max_s`: over the leechers that completed;
- `completed`: the share of leechers whose client says it has every piece (`left` 0);
- `verified`: the share of leechers that hold the published file, every piece's digest
  equal to the digest of that piece of the file the params define. The digests expected
  are made here from the content alone, not by the peers' code or the torrent maker, so
  a peer that takes a bad piece for good (or a client that says it is done when it is
  not) is caught: `completed` 1 with `verified` below it;
- `seed_upload_share`: the seeds' part of all bytes uploaded (1.0 in client-server);
- `completion_model_s`: the fluid model's time for the last of the N leechers (Qiu &
  Srikant 2004; the textbook's distribution time), from the params and N alone, F the
  file in Mbit, u every peer's upload cap and u_s the seeds' together: client-server
  N·F/u_s (every copy through the seeds' uplinks), a swarm max(F/u_s, N·F/(u_s + N·u))
  (the seeds must send one copy; every uplink joins theirs). Download capacities are not
  counted (the harness's access links are faster than the caps). `completion_model_ratio`
  = completion_max_s / completion_model_s: 1 is the model met; no model without a cap.

`completion.png` (the headline of a flash crowd): completion time against N, the swarm
and client-server, measured (mean and last) beside the model.
"""
from __future__ import annotations

import hashlib
import statistics
from collections import defaultdict
from pathlib import Path
from typing import Any, Dict, List, Optional, Tuple

from ..plotting import figure, finish
from .metainfo import content

MIB = 1 << 20


def published_digests(params: Any) -> List[str]:
    """SHA-1 (hex) of each piece of the file the params define."""
    data = content(int(params.file_mib * MIB), params.seed)
    size = params.piece_kib * 1024
    return [hashlib.sha1(data[i:i + size]).hexdigest() for i in range(0, len(data), size)]


def model_s(params: Any, leechers: int) -> Optional[float]:
    """The fluid model's completion time of the last of `leechers` (module docstring)."""
    if not params.upload_mbit or leechers < 1:
        return None
    f = params.file_mib * MIB * 8 / 1e6
    u_s = len(params.seeds) * params.upload_mbit
    if params.mode == "client-server":
        return leechers * f / u_s
    return max(f / u_s, leechers * f / (u_s + leechers * params.upload_mbit))


def metrics(records: List[Dict[str, Any]], params: Any) -> Dict[str, float]:
    out: Dict[str, float] = {}
    done = [r["value"] for r in records if r.get("metric") == "complete_s"]
    if done:
        out["completion_mean_s"] = round(statistics.mean(done), 3)
        out["completion_max_s"] = round(max(done), 3)
    leechers = [r for r in records if r.get("event") == "stopped" and not r.get("seed")]
    if leechers:
        out["completed"] = round(sum(r["left"] == 0 for r in leechers) / len(leechers), 4)
        model = model_s(params, len(leechers))
        if model is not None:
            out["completion_model_s"] = round(model, 3)
            if "completion_max_s" in out:
                out["completion_model_ratio"] = round(out["completion_max_s"] / model, 3)
    if leechers and all("pieces" in r for r in leechers):
        want = published_digests(params)
        out["verified"] = round(sum(r["pieces"] == want for r in leechers) / len(leechers), 4)
    stops = [r for r in records if r.get("event") == "stopped"]
    total = sum(r.get("uploaded_mib", 0) for r in stops)
    if total > 0 and all("uploaded_mib" in r for r in stops):  # transmission counts none
        out["seed_upload_share"] = round(
            sum(r["uploaded_mib"] for r in stops if r.get("seed")) / total, 4)
    return out


def completion_plot(deployments: List[Any], folder: Path) -> List[Path]:
    """`completion.png`: mean and last completion against N per mode, every trial, with
    the fluid model's line; drawn where one mode has at least two sizes of crowd."""
    points: Dict[str, List[Tuple[int, float, float]]] = defaultdict(list)
    params: Dict[str, Any] = {}
    for dep in deployments:
        for records in dep.records.values():
            m = metrics(records, dep.params)
            n = sum(1 for r in records if r.get("event") == "stopped" and not r.get("seed"))
            if "completion_mean_s" in m and n:
                points[dep.params.mode].append((n, m["completion_mean_s"],
                                                m["completion_max_s"]))
                params[dep.params.mode] = dep.params
    if not any(len({n for n, _, _ in p}) > 1 for p in points.values()):
        return []
    fig, ax = figure(size=(6.5, 4.2))
    colours = {"swarm": "tab:blue", "client-server": "tab:orange"}
    for mode, rows in sorted(points.items()):
        rows.sort()
        c = colours.get(mode)
        ax.plot([n for n, _, _ in rows], [m for _, m, _ in rows], "o-", color=c,
                label=f"{mode}: mean")
        ax.plot([n for n, _, _ in rows], [x for _, _, x in rows], "v", color=c,
                label=f"{mode}: last")
        grid = list(range(1, max(n for n, _, _ in rows) + 1))
        model = [model_s(params[mode], n) for n in grid]
        if all(v is not None for v in model):
            ax.plot(grid, model, "--", color=c, alpha=0.6, label=f"{mode}: fluid model (last)")
    ax.set_xlabel("leechers N")
    ax.set_ylabel("completion time (s)")
    ax.set_ylim(bottom=0)
    return finish(fig, [ax], folder / "completion.png")
