"""Names of the emulator's interfaces (kept apart from the Mininet link class, so code that
only needs the names does not import Mininet)."""
from typing import Tuple


def emulator_ends(index: int) -> Tuple[str, str]:
    """Names of the emulator's two interfaces for link `index` (root namespace)."""
    return f"tbe{index}a", f"tbe{index}b"
