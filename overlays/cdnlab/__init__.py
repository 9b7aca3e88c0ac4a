"""A CDN whose request routing is the CDN lab's: the agent is overlays/cdn's, the router's
choice of an edge comes from `overlays/cdnlab/policy.py` (labs/cdn-routing) in place of
`routing.policy`. The repository's policy.py is the lab's starter; the grader puts a
student's file in its place. Params, ports, metrics and plots: the CDN's."""
from ..cdn import SPEC

__all__ = ["SPEC"]
