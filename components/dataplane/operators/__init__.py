"""Operators as pinned Helm releases: `Operators` in component.py, chart values in values.py."""
