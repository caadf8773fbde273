"""Small Kubernetes building blocks shared by the data-plane components."""
