"""YAML topology -> validated, typed model. Imports nothing of Mininet or of the other layers."""
from .diagnostics import Diagnostic, InvalidInput
from .loader import load_topology, parse_topology
from .network import Network
from .schema import json_schema

__all__ = ["Diagnostic", "InvalidInput", "Network", "json_schema", "load_topology",
           "parse_topology"]
