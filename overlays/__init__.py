"""Overlay agents: one package per overlay, run inside Mininet host namespaces. They know
nothing of the harness (no `testbed` imports); see README.md for the contract."""
