"""StackReferences in the offline plan: how a name resolves (the way Pulumi Cloud resolves it), what a
reference answers (the referenced stack's own plan outputs) and what each reference reads.

Pulumi Cloud parses a StackReference name as `stack`, `owner/stack` or `owner/project/stack`; a
missing owner is the deployer's default organisation, a missing project the current project
(pulumi/pulumi pkg/backend/httpstate/backend.go, cloudBackend.ParseStackReference). The estate gives
every committed stack the fully qualified name `<org>/<project>/<stack>`.

Pure: no Pulumi imports (the runtime hooks live in planner/runtime.py).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

# Signatures of the Pulumi wire format (sdk/go/common/resource/sig).
SIG = "4dabf18193072939515e22adb298388d"
SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270"

DEFAULT_ORG = "organization"


class StackNameError(ValueError):
    pass


def qualify(name: str, project: str, default_org: str) -> str:
    """'prod' -> '<default_org>/<project>/prod'; 'acme/prod' -> 'acme/<project>/prod'; three parts as is."""
    parts = name.split("/")
    if len(parts) == 1:
        owner, proj, stack = default_org, project, parts[0]
    elif len(parts) == 2:
        owner, proj, stack = parts[0], project, parts[1]
    elif len(parts) == 3:
        owner, proj, stack = parts
    else:
        raise StackNameError(f"could not parse stack name {name!r}")
    if not all((owner, proj, stack)):
        raise StackNameError(f"could not parse stack name {name!r}")
    return f"{owner}/{proj}/{stack}"


@dataclass
class References:
    """The references of one stack's run: qualified name -> (outputs, secret output names). A name in
    `unresolved` (a later member of a cycle) or in neither (not in the estate) answers nothing."""

    project: str = "pipeline-infra"
    default_org: str = DEFAULT_ORG
    resolved: dict[str, tuple[dict[str, Any], frozenset[str]]] = field(default_factory=dict)
    unresolved: set[str] = field(default_factory=set)

    def qualify(self, name: str) -> str:
        return qualify(name, self.project, self.default_org)

    def answer(self, name: str) -> tuple[dict[str, Any], frozenset[str]] | None:
        try:
            return self.resolved.get(self.qualify(name))
        except StackNameError:
            return None

    def status(self, name: str) -> str:
        """'resolved', 'unresolved' (declared in the estate, evaluated later) or 'unknown'."""
        try:
            fqn = self.qualify(name)
        except StackNameError:
            return "unknown"
        if fqn in self.resolved:
            return "resolved"
        return "unresolved" if fqn in self.unresolved else "unknown"

    def exported(self, name: str) -> set[str] | None:
        answer = self.answer(name)
        return None if answer is None else set(answer[0])
