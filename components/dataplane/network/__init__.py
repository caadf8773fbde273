"""NetworkPolicies of the data plane's namespaces: default deny, and the flows the platform needs."""
