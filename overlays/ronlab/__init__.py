"""RON whose failure detection and path choice are the routing-overlay lab's: the agent is
overlays/ron's, its `link_is_down` and `choose` come from `overlays/ronlab/policy.py`
(labs/routing-overlay). The repository's policy.py is the lab's starter; the grader puts a
student's file in its place. Params, ports and plots: RON's."""
from ..ron import SPEC

__all__ = ["SPEC"]
