"""EKS: `EksCluster` in component.py; pure helpers (labels, taints, kubeconfig, trust policies) in spec.py."""
