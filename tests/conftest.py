from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
TOPOLOGIES = ROOT / "topologies"


@pytest.fixture(scope="session")
def topo_path():
    return lambda name: TOPOLOGIES / f"{name}.yaml"
