"""Constant-rate UDP application flows, direct or through the RON overlay."""
