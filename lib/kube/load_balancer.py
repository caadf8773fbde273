"""Service annotations of an internal AWS network load balancer (pure: no Pulumi), read by the AWS
cloud provider and the AWS Load Balancer Controller alike."""

from __future__ import annotations

from typing import Final

INTERNAL_NLB: Final = {
    "service.beta.kubernetes.io/aws-load-balancer-type": "nlb",
    "service.beta.kubernetes.io/aws-load-balancer-scheme": "internal",
    "service.beta.kubernetes.io/aws-load-balancer-internal": "true",
}
# One spread over every zone's targets: a client in any zone reaches a backend in another.
INTERNAL_NLB_CROSS_ZONE: Final = {
    **INTERNAL_NLB,
    "service.beta.kubernetes.io/aws-load-balancer-cross-zone-load-balancing-enabled": "true",
}
