"""The harness side of overlay specs (overlays/spec.py): find a deployment's spec, check
its params, ports and programs, and give the validated params to agents and analyses.
The harness names no overlay: everything it knows of one comes from its `SPEC`."""
from __future__ import annotations

import importlib
import importlib.util
import shutil
from dataclasses import replace
from typing import Any, Dict, Iterator, List, NamedTuple, Tuple

import pydantic

from overlays.spec import OverlaySpec, Port

from ..model.checks import Problem
from ..model.diagnostics import excerpt
from ..model.network import Network
from .schema import Experiment, Overlay


class NoSpec(LookupError):
    """The module is not an overlay; the message says why."""


def spec_of(module: str) -> OverlaySpec:
    """The overlay package's SPEC. Only packages inside `overlays` are imported (the
    schema's module pattern), so a file cannot make the harness import arbitrary code."""
    try:
        found = importlib.util.find_spec(module)
    except (ImportError, ValueError):
        found = None
    if found is None:
        raise NoSpec(f"no overlay module '{excerpt(module)}'")
    spec = getattr(importlib.import_module(module), "SPEC", None)
    if not isinstance(spec, OverlaySpec):
        raise NoSpec(f"'{excerpt(module)}' is not an overlay: its package defines no SPEC "
                     "(see the README, 'Adding an overlay')")
    return spec


def members(overlay: Overlay, net: Network) -> List[str]:
    """The deployment's hosts: `all` in name order, or the file's list in file order."""
    return sorted(net.hosts) if overlay.hosts == "all" else list(overlay.hosts)


class Agent(NamedTuple):
    """One agent of a deployment: `label` names its files and records (the host, or
    `host@k` when the deployment runs several per host)."""
    label: str
    host: str
    instance: int
    port_shift: int


def agents(overlay: Overlay, net: Network) -> List[Agent]:
    """Every agent of the deployment, members in order, instances within each."""
    stride = spec_of(overlay.module).instance_stride
    return [Agent(host if overlay.instances == 1 else f"{host}@{k}", host, k, k * stride)
            for host in members(overlay, net) for k in range(overlay.instances)]


def bound_ports(spec: OverlaySpec, params: Any, host: str, instances: int) -> List[Port]:
    """The ports the deployment's agents on `host` bind, every instance's."""
    return [replace(port, number=port.number + k * spec.instance_stride)
            for k in range(instances) for port in spec.ports(params, host)]


def params_of(overlay: Overlay) -> Any:
    """The validated params (the experiment has been loaded, so they validate)."""
    return spec_of(overlay.module).params.model_validate(overlay.params)


def params_errors(exp: Experiment) -> Dict[int, pydantic.ValidationError]:
    """Deployment index -> why its overlay refuses its params (for the loader to
    position inside `params`)."""
    out = {}
    for i, o in enumerate(exp.overlays):
        try:
            spec_of(o.module).params.model_validate(o.params)
        except NoSpec:
            continue
        except pydantic.ValidationError as exc:
            out[i] = exc
    return out


def check_overlays(exp: Experiment, net: Network) -> Iterator[Problem]:
    """Unknown modules, the spec's own checks of valid params, and port collisions
    between deployments that share a host while both run."""
    bound: Dict[Tuple[str, str, int, str], List[Tuple[int, float, float]]] = {}
    for i, o in enumerate(exp.overlays):
        try:
            spec = spec_of(o.module)
            params = spec.params.model_validate(o.params)
        except NoSpec as exc:
            yield Problem(("overlays", i, "module"), str(exc),
                          "overlay modules are packages in overlays/, e.g. overlays.echo")
            continue
        except pydantic.ValidationError:
            continue  # params_errors reports it
        if o.instances > 1 and not spec.instance_stride:
            yield Problem(("overlays", i, "instances"),
                          f"{o.module} runs one agent per host",
                          "drop 'instances', or give the overlay's spec an instance_stride")
            continue
        hosts = [h for h in members(o, net) if h in net.hosts]
        for path, message in spec.check(params, hosts):
            yield Problem(("overlays", i, "params", *path), message)
        start, end = _window(exp, o)
        for host in hosts:
            for port in bound_ports(spec, params, host, o.instances):
                key = (host, port.proto, port.number, port.on)
                for j, s, e in bound.get(key, []):
                    if s < end and start < e:
                        yield Problem(("overlays", i, "params"),
                                      f"{port.proto} port {port.number} on {host} is also "
                                      f"used by '{exp.overlays[j].name}' at the same time",
                                      "give one of them another port in its params")
                bound.setdefault(key, []).append((i, start, end))


def class_ports(exp: Experiment, net: Network) -> Dict[str, List[int]]:
    """Traffic classes: each deployment's ports bound on its members' addresses (what
    crosses links; loopback ports never do), for accounting and ISP throttles."""
    out = {}
    for o in exp.overlays:
        spec = spec_of(o.module)
        params = spec.params.model_validate(o.params)
        out[o.name] = sorted({port.number for host in members(o, net)
                              for port in bound_ports(spec, params, host, o.instances)
                              if port.on == "host"})
    return out


def _window(exp: Experiment, overlay: Overlay) -> Tuple[float, float]:
    """When a deployment may run: its own start and stop, widened by timeline starts
    (a restart after its stop runs to the end)."""
    start = overlay.start
    end = overlay.stop if overlay.stop is not None else exp.duration
    for ev in exp.timeline:
        if getattr(ev, "overlay", None) == overlay.name and ev.action == "start":
            start = min(start, ev.at)
            if ev.at >= end:
                end = exp.duration
    return start, end


def missing_programs(exp: Experiment) -> List[str]:
    """One line per external program an overlay needs that is not installed."""
    out = []
    for o in exp.overlays:
        spec = spec_of(o.module)
        for program in spec.programs(spec.params.model_validate(o.params)):
            if shutil.which(program.command) is None:
                out.append(f"overlay '{o.name}' ({o.module}) needs '{program.command}'; "
                           f"install it with: apt-get install {program.package}")
    return sorted(set(out))
