"""The overlays' plots share their frame: a headless matplotlib figure, and the same
finish (labels, grid, legend, saved at one resolution, closed). Imports nothing of the
harness; matplotlib is loaded only when something is drawn."""
from __future__ import annotations

from pathlib import Path
from typing import Any, List, Tuple


def figure(*grid: int, size: Tuple[float, float] = (6, 4)) -> Tuple[Any, Any]:
    """A new figure (Agg: no display) and its axes: plt.subplots(*grid, figsize=size)."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    return plt.subplots(*grid, figsize=size)


def finish(fig: Any, axes: List[Any], path: Path) -> List[Path]:
    """A grid and a legend on each of `axes`, the figure laid out, saved to `path` and
    closed; the list of what was drawn, as OverlaySpec.plots returns it."""
    import matplotlib.pyplot as plt
    for ax in axes:
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return [path]
