"""The base layer: typed settings helpers, quantities and crons, versions, capacity sizing and the small
Kubernetes and AWS builders every component shares. It imports neither components/ nor stacks/."""
