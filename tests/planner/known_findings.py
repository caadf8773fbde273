# ruff: noqa: E501
"""The committed stacks' current findings (generated from `make plan-all`, then kept by hand):
each line is (review item, check, stack, resource, message). The review items are those of
/work/shared/reviews: pulumi-engine-review.md (A*, B*) and seed-traceability.md. The [deployable]
issue fixes the stacks and deletes the lines it fixes; a new finding fails the test until it is
fixed or listed here with its review item."""

KNOWN = [
]
