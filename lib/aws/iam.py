"""IAM trust policies shared by the AWS components (pure: JSON documents, no Pulumi)."""

from __future__ import annotations

import json
from typing import Any


def irsa_trust_policy(*, provider_arn: str, issuer: str, namespace: str, service_account: str) -> str:
    """Trust of an IAM role for one Kubernetes service account (EKS IRSA): web identity from the
    cluster's OIDC provider, `sub` equal to that service account and `aud` equal to STS."""
    host = issuer.removeprefix("https://")
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Principal": {"Federated": provider_arn},
                    "Action": "sts:AssumeRoleWithWebIdentity",
                    "Condition": {
                        "StringEquals": {
                            f"{host}:sub": f"system:serviceaccount:{namespace}:{service_account}",
                            f"{host}:aud": "sts.amazonaws.com",
                        }
                    },
                }
            ],
        },
        sort_keys=True,
    )


def service_trust_policy(service: str, *, source_account: str | None = None) -> str:
    """Trust of a role for an AWS service; with `source_account`, only on behalf of that account."""
    statement: dict[str, Any] = {
        "Effect": "Allow",
        "Principal": {"Service": service},
        "Action": "sts:AssumeRole",
    }
    if source_account is not None:
        statement["Condition"] = {"StringEquals": {"aws:SourceAccount": source_account}}
    return json.dumps({"Version": "2012-10-17", "Statement": [statement]})
