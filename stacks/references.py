"""StackReferences between the committed stacks: fully qualified names and one reference per stack.

A stack file names another stack of this project by its short name (`prod`); the program qualifies
it as `<organization>/<project>/<stack>` with `pulumi.get_organization()` and `pulumi.get_project()`,
so it resolves to the stack in the organisation being deployed (Pulumi Cloud would otherwise expand a
short name with the CLI identity's default organisation; the DIY backends report the organisation
`organization` and accept the same form). A name with two slashes is taken as already qualified (a
stack of another project). Outputs are read with `require_output`: a missing output fails the run
instead of becoming None.

The graph of these references is acyclic (tests/traffic/test_stack_graph.py):
prod <- prod-blue, prod-green <- prod-traffic, and prod <- prod-dr; staging and local read nothing.
"""

from __future__ import annotations

import re

import pulumi

# The organisation the DIY backends (file://, s3://) report and accept in qualified names.
DIY_ORGANIZATION = "organization"
_SHORT = re.compile(r"^[A-Za-z0-9_.-]+$")
_QUALIFIED = re.compile(r"^[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+$")
# A stack-name setting: a short stack name of this project, or organisation/project/stack.
STACK_NAME_PATTERN = r"^([A-Za-z0-9_.-]+|[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+)$"


def qualified(name: str, *, organization: str, project: str) -> str:
    """`prod` -> `<organization>/<project>/prod`; an `org/project/stack` name is kept. Pure."""
    if _QUALIFIED.match(name):
        return name
    if not _SHORT.match(name):
        raise ValueError(f"stack name {name!r}: a short stack name or organization/project/stack")
    return f"{organization}/{project}/{name}"


def short_name(name: str) -> str:
    """The stack part of a (qualified) stack name."""
    return name.rsplit("/", 1)[-1]


def stack_reference(name: str) -> pulumi.StackReference:
    """The one StackReference of this program run to stack `name` (qualified here): the areas that
    read the same stack share it. Kept on the run's root Stack resource, so a second run in the same
    process (the offline plan of several stacks) starts afresh."""
    from pulumi.runtime.settings import get_root_resource

    # The CLI always names the organisation; a test runtime may not (then the DIY backends' name).
    organization = pulumi.get_organization() or DIY_ORGANIZATION
    full = qualified(name, organization=organization, project=pulumi.get_project())
    root = get_root_resource()
    refs: dict[str, pulumi.StackReference] = root.__dict__.setdefault("_pipeline_stack_references", {})
    if full not in refs:
        # The resource name is the stack's short name: stable across organisations.
        refs[full] = pulumi.StackReference(f"{short_name(full)}-ref", stack_name=full)
    return refs[full]
