"""Module fleets (alpha/beta/gamma): the Fleet component (components.fleet.component) and its pure
helpers (profile, cloud_init). This package file imports nothing so that the pure helpers load
without Pulumi."""
