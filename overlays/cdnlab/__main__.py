"""The CDN lab's agent: overlays/cdn's with this package's request routing policy.

    python -m overlays.cdnlab --config CONFIG.json   (the contract: overlays/README.md)
"""
from overlays.cdn.__main__ import CdnAgent

from . import policy


def make(config):  # type: ignore[no-untyped-def]
    return CdnAgent(config, choose=policy.choose)


if __name__ == "__main__":
    from overlays.agent import main
    main(make, "CDN agent with the lab's request routing")
