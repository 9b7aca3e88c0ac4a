"""Timeline actions, one module per family (see `base`); every module of this package is
imported here, so adding an action is adding a file."""
from __future__ import annotations

import importlib
import pkgutil
from typing import Any, Union

from pydantic import Field
from typing_extensions import Annotated

from .base import (FAMILIES, REGISTRY, Action, ActionFamily, CheckContext, Draws, EventBase,
                   Running, register)

for _module in sorted(m.name for m in pkgutil.iter_modules(__path__)):
    if _module != "base":
        importlib.import_module(f"{__name__}.{_module}")


def event_union() -> Any:
    """The timeline entry's schema: one model per family, chosen by `action`."""
    return Annotated[Union[tuple(f.Event for f in FAMILIES)],  # type: ignore[misc]
                     Field(discriminator="action")]


def marked() -> frozenset:
    """Names of the actions drawn on plots."""
    return frozenset(name for name, f in REGISTRY.items() if f.marked)


__all__ = ["Action", "ActionFamily", "CheckContext", "Draws", "EventBase", "REGISTRY",
           "Running", "event_union", "marked", "register"]
