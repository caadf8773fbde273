"""network.public_ingest (sources on the internet, seed 003 Module Alpha Step 1: sources reach the
adapters on their ports): alpha's ingest load balancer becomes internet-facing in the public subnets,
and its listener is the only thing open to the world. Off by default: internal, private subnets."""

from __future__ import annotations

LB = "aws:lb/loadBalancer:LoadBalancer"
SUBNET = "aws:ec2/subnet:Subnet"


def _nlbs(plan):
    return {r.name: r.inputs for r in plan.of_type(LB)}


def _subnet_ids(plan, public: bool):
    # Public subnets are the ones tagged for internet-facing load balancers (kubernetes.io/role/elb).
    role = "kubernetes.io/role/elb" if public else "kubernetes.io/role/internal-elb"
    return sorted(r.id for r in plan.of_type(SUBNET) if role in (r.inputs.get("tags") or {}))


def test_ingest_is_internal_by_default(plan_of):
    plan = plan_of("staging")
    for name, nlb in _nlbs(plan).items():
        assert nlb["internal"] is True, name
        assert sorted(nlb["subnets"]) == _subnet_ids(plan, public=False), name


def test_public_ingest_makes_only_alpha_internet_facing(plan_of):
    plan = plan_of("staging", {"network.public_ingest": True})
    nlbs = _nlbs(plan)
    [alpha] = [n for n in nlbs if n.startswith("alpha-")]
    assert nlbs[alpha]["internal"] is False
    assert sorted(nlbs[alpha]["subnets"]) == _subnet_ids(plan, public=True)
    for name, nlb in nlbs.items():
        if name != alpha:
            assert nlb["internal"] is True and sorted(nlb["subnets"]) == _subnet_ids(plan, public=False), name


def test_colour_stack_follows_its_environment():
    # prod-blue reads public_ingest from prod's own plan outputs (the estate resolves the reference).
    from planner.estate import evaluate

    for public in (False, True):
        estate = evaluate(["prod-blue"], overrides={"prod": {"network.public_ingest": public}})
        assert estate.plans["prod"].outputs["public_ingest"] is public
        nlbs = _nlbs(estate.plans["prod-blue"])
        assert {n.split("-")[0]: nlb["internal"] for n, nlb in nlbs.items()} == {
            "alpha": not public,
            "beta": True,
            "gamma": True,
        }
