"""Emulation testbed for overlay networks on emulated ISP underlays.

Layers (data flows one way): model -> underlay / control -> measure -> experiment -> grade.
"""

__version__ = "0.1.0"
