"""Field types shared by the experiment schema and the timeline actions: seconds, names of
nodes, deployments and modules, each with a plain-words message when it does not fit."""
from __future__ import annotations

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, WithJsonSchema
from typing_extensions import Annotated

from ..model import units
from ..model.schema import NAME_RE, NAME_WORDS, matching

MAX_DURATION_S = 86_400.0  # a trial of a day is already more than a lab needs

Seconds = Annotated[float, BeforeValidator(units.parse_seconds), Field(le=MAX_DURATION_S),
                    WithJsonSchema({"anyOf": [{"type": "number", "minimum": 0,
                                               "maximum": MAX_DURATION_S},
                                              {"type": "string", "pattern": units.DURATION_PATTERN}],
                                    "description": "seconds; a number or '10s', '500ms'"})]
Ident = Annotated[str, matching(NAME_RE, NAME_WORDS),
                  Field(pattern=NAME_RE, max_length=40,
                        description="lower-case letters, digits, '-' and '_'")]
NODE_RE = r"^as\d+\.[a-z][a-z0-9_-]*$"
NodeName = Annotated[str, matching(NODE_RE, "a node name like as100.h1 or as100.r1"),
                     Field(pattern=NODE_RE, description="a router or host: as<asn>.<name>")]


class Strict(BaseModel):
    """Unknown keys are errors, numbers are finite, models are immutable."""
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True,
                              allow_inf_nan=False)
