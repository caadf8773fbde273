"""Composition of each stack role from the components (one module per area)."""
