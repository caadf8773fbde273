"""Strict CRD validation of this suite's custom resources (tests/support/crds.py)."""

from tests.support.crds import schema_errors as errors
from tests.support.crds import validate_custom_resource as validate

__all__ = ["errors", "validate"]
