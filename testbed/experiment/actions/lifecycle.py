"""Starting and stopping a workload or an overlay deployment (`start`, `stop`). Every
workload and overlay also starts and stops at its own `start`/`stop` (default: the end);
these timeline entries add more."""
from __future__ import annotations

from typing import Any, Dict, Iterator, Literal, Optional, Tuple

from pydantic import model_validator

from ...model.diagnostics import did_you_mean
from ..fields import Ident
from .base import Action, ActionFamily, CheckContext, Draws, EventBase, Running, register


@register
class Lifecycle(ActionFamily):
    names = ("start", "stop")

    class Event(EventBase):
        """Start or stop a workload or an overlay deployment (one of the two keys)."""
        action: Literal["start", "stop"]
        workload: Optional[Ident] = None
        overlay: Optional[Ident] = None

        @model_validator(mode="after")
        def _one(self) -> "Lifecycle.Event":
            if (self.workload is None) == (self.overlay is None):
                raise ValueError(f"action '{self.action}' needs one of 'workload' or 'overlay'")
            return self

    def check(self, event: Any, ctx: CheckContext) -> Iterator[Tuple[str, str, str]]:
        if event.workload is not None and event.workload not in ctx.workloads:
            yield "workload", f"no workload '{event.workload}'", \
                did_you_mean(event.workload, ctx.workloads)
        if event.overlay is not None and event.overlay not in ctx.overlays:
            yield "overlay", f"no overlay '{event.overlay}'", \
                did_you_mean(event.overlay, ctx.overlays)

    def resolve(self, event: Any, draws: Draws) -> Tuple[str, Dict[str, Any]]:
        kind = "workload" if event.workload else "overlay"
        return event.workload or event.overlay, {"kind": kind}

    def apply(self, action: Action, trial: Running) -> Dict[str, Any]:
        if action.action == "start":
            return trial.start(action.target, action.params["kind"])
        return trial.stop(action.target, action.params["kind"])
