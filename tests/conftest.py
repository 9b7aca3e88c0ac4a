from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
TOPOLOGIES = ROOT / "topologies"


@pytest.fixture
def topo_path():
    return lambda name: TOPOLOGIES / f"{name}.yaml"
