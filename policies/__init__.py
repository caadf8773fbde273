"""Policy as code: pure rule functions (policies/rules.py), run by the offline plan and wired into a
CrossGuard pack (policies/__main__.py, PulumiPolicy.yaml) for `pulumi preview --policy-pack policies`."""
