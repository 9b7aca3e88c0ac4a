"""Measurement: path metrics (pure) and, later, probes run inside host namespaces."""
