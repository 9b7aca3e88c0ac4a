from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
TOPOLOGIES = ROOT / "topologies"


@pytest.fixture(scope="session")
def topo_path():
    return lambda name: TOPOLOGIES / f"{name}.yaml"


PLANES = ["openflow", "linux"]


@pytest.fixture(scope="module", params=PLANES)
def plane(request):
    """The data plane a network test runs on: every such test runs on both."""
    return request.param
