"""The routing-overlay lab's RON member: overlays/ron's agent with this package's policy.

    python -m overlays.ronlab --config CONFIG.json   (the contract: overlays/README.md)
"""
from overlays.ron.__main__ import RonAgent

from . import policy


def make(config):  # type: ignore[no-untyped-def]
    return RonAgent(config, choose=policy.choose, link_is_down=policy.link_is_down)


if __name__ == "__main__":
    from overlays.agent import main
    main(make, "RON member with the lab's failure detection and path choice")
