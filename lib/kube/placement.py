"""Where a workload runs: its managed node group, chosen by label and admitted by toleration (the
cluster component labels and taints the node groups the same way). Pure: no Pulumi."""

from __future__ import annotations

from typing import Any

WORKLOAD_LABEL = "pipeline-infra/workload"
PLATFORM = "platform"


def placement(workload: str = PLATFORM) -> dict[str, Any]:
    """nodeSelector and tolerations that pin a workload to its node group."""
    return {
        "nodeSelector": {WORKLOAD_LABEL: workload},
        "tolerations": [
            {"key": WORKLOAD_LABEL, "operator": "Equal", "value": workload, "effect": "NoSchedule"}
        ],
    }
