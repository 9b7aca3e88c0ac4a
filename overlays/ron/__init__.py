"""RON: a resilient overlay network (see __main__ for the agent, routing for path choice,
analysis for its plots)."""
from typing import Literal, Sequence

from pydantic import Field

from ..spec import OverlaySpec, Params, Port


class RonParams(Params):
    """The agent's knobs (what each does: __main__'s docstring)."""
    port: int = Field(7100, ge=1, le=65535, description="UDP port between members")
    app_port: int = Field(7101, ge=1, le=65535,
                          description="where applications hand datagrams (127.0.0.1)")
    probe_interval: float = Field(0.5, gt=0, le=60, description="seconds between probes")
    probe_timeout: float = Field(0.3, gt=0, le=60, description="a probe is lost after")
    followups: int = Field(2, ge=0, le=10, description="extra probes after a loss")
    followup_interval: float = Field(0.1, gt=0, le=10)
    dead_after: int = Field(3, ge=1, le=100, description="losses in a row: link down")
    ewma_alpha: float = Field(0.3, gt=0, le=1, description="weight of the newest RTT")
    loss_window: int = Field(20, ge=1, le=10_000, description="probes in the loss rate")
    ls_interval: float = Field(0.5, gt=0, le=60, description="seconds between link states")
    metric: Literal["latency", "loss", "combined"] = "latency"
    loss_penalty_ms: float = Field(500.0, ge=0, le=100_000)
    hysteresis: float = Field(0.1, ge=0, le=10, description="switch only when this much better")
    report_interval: float = Field(5.0, gt=0, le=3600, description="seconds between path reports")


def ports(params: RonParams, host: str) -> Sequence[Port]:
    return [Port(params.port), Port(params.app_port, on="loopback")]


def _plots(deployments, folder):  # type: ignore[no-untyped-def]
    from .analysis import overhead_plot
    return overhead_plot(deployments, folder)


SPEC = OverlaySpec(params=RonParams, ports=ports, plots=_plots)
