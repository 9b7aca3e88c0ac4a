"""Measurement: probes run inside host namespaces, path mapping, path metrics (pure), RTT
matrices and fidelity checks; a running network is seen through underlay.api."""
