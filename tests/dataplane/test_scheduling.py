"""Scheduling (issue 11, item 7): every data-plane pod fits its node group in staging, prod and
prod-dr, with node allocatable computed as the EKS AL2023 AMI's bootstrap (nodeadm) reserves it and
the DaemonSets subtracted (lib/kube/nodes.yaml), replicas packed onto the group's minimum nodes with
their anti-affinity and zones."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest
import yaml

from lib.kube.scheduling import Pod, Requests, daemonset_requests, fits, load, node, place
from tests.support.kube_checks import scheduling_problems

REPO = Path(__file__).resolve().parents[2]
AWS = [("staging", {}), ("prod", {}), ("prod-dr", {}), ("prod-dr", {"dr.role": "primary"})]


def _zones(plan) -> list[str]:
    (cluster,) = [r for r in plan.resources if r.type.endswith(":ScyllaCluster")]
    return [rack["name"] for rack in cluster.inputs["spec"]["datacenter"]["racks"]]


# --- the node figures ------------------------------------------------------------------------------
def test_reservations_are_nodeadms() -> None:
    # awslabs/amazon-eks-ami nodeadm/test/e2e/cases/kubelet-config-new-instance-type/
    # expected-kubelet-config.json: a 2-vCPU instance with maxPods 110 reserves cpu 70m, memory 1465Mi.
    data = copy.deepcopy(load())
    data["instance_types"]["mock-type.large"] = {
        "vcpu": 2,
        "memory_mib": 8192,
        "default_enis": 4,
        "ipv4_per_eni": 28,  # 4 x 27 + 2 = 110 pods
    }
    n = node("mock-type.large", data)
    assert n.max_pods == 110
    assert n.allocatable.cpu_m == 2000 - 70
    f = data["formula"]
    assert 8192 * (1 - f["vm_memory_overhead_fraction"]) - n.allocatable.memory_mib == pytest.approx(
        1465 + 100
    )
    # 6% + 1% + 0.5% + 0.5% of the first four cores, 0.25% of each above (getCPUMillicoresToReserve).
    assert node("r6i.xlarge").allocatable.cpu_m == 4000 - 80
    assert node("i4i.2xlarge").allocatable.cpu_m == 8000 - 90
    # maxPods = ENIs x (IPv4 per ENI - 1) + 2: EKS's published 29 (r6i.large) and 58 (r6i.xlarge).
    assert node("r6i.large").max_pods == 29 and node("r6i.xlarge").max_pods == 58


def test_every_instance_type_of_the_stacks_is_in_the_data_file(plan_of) -> None:
    used = set()
    for stack, overrides in AWS:
        for r in plan_of(stack, overrides).of_type("aws:eks/nodeGroup:NodeGroup"):
            used |= set(r.inputs["instanceTypes"])
    assert used and used <= set(load()["instance_types"]), used - set(load()["instance_types"])


def test_the_daemonsets_are_subtracted() -> None:
    ds = daemonset_requests()
    assert ds == Requests(100 + 25 + 30 + 0, 120)  # kube-proxy, aws-node, EBS CSI node, node exporter
    free = fits(Requests(), "r6i.xlarge", ds).free
    assert free == node("r6i.xlarge").allocatable - ds


# --- fits and place --------------------------------------------------------------------------------
def test_fits_refuses_the_old_postgres_size_and_takes_the_new() -> None:
    ds = daemonset_requests()
    old = fits(Requests(4000, 16384), "r6i.xlarge", ds)  # the review's B10: 4 cpu on 4 vCPUs
    assert not old.fits and "cpu 4000m > 3765m free" in old.reason
    assert fits(Requests(3000 + 100, 16384 + 256), "r6i.xlarge", ds).fits
    assert not fits(Requests(2000, 4096), "r6i.large", ds).fits  # staging's old 2 cpu on 2 vCPUs


def test_place_honours_one_per_node_zones_and_capacity() -> None:
    ds = daemonset_requests()
    zones = {"a": 1, "b": 1, "c": 1}
    members = [Pod(f"m{i}", Requests(2000, 8192), one_per_node="scylla") for i in range(4)]
    assert place(members[:3], "i4i.2xlarge", zones, ds) == []
    assert len(place(members, "i4i.2xlarge", zones, ds)) == 1  # a fourth member has no node of its own
    rack = [Pod("r", Requests(100, 100), zone="d")]
    assert place(rack, "i4i.2xlarge", zones, ds) == [
        "r: no i4i.2xlarge node in zone d has room (3 nodes, 100m/100Mi)"
    ]
    crowd = [Pod(f"p{i}", Requests(2000, 1024)) for i in range(4)]
    assert len(place(crowd, "m7i.xlarge", {"a": 1, "b": 1}, ds)) == 2  # 2 of 2000m per 3765m node


# --- the committed stacks --------------------------------------------------------------------------
@pytest.mark.parametrize("stack,overrides", AWS, ids=[f"{s}{'-promoted' if o else ''}" for s, o in AWS])
def test_every_data_plane_pod_fits_its_nodes(plan_of, stack, overrides) -> None:
    plan = plan_of(stack, overrides)
    assert scheduling_problems(plan.resources, _zones(plan)) == []


def test_the_check_fails_on_the_old_sizes() -> None:
    from planner.runtime import run_plan  # mapping overrides: not the shared (hashable) plans

    plan = run_plan("prod", {"postgres.resources": {"cpu": "4", "memory": "16Gi"}})
    problems = scheduling_problems(plan.resources, _zones(plan))
    assert len(problems) == 3 and all("never fits on r6i.xlarge" in p for p in problems), problems
    small = {"platform": {"instance_type": "m7i.xlarge", "min": 2, "desired": 3, "max": 6}}
    plan = run_plan("prod", {"cluster.node_groups": _groups(small)})
    assert any(p.startswith("platform:") for p in scheduling_problems(plan.resources, _zones(plan)))


def _groups(overrides: dict) -> dict:
    from components.cluster.settings import _default_node_groups

    groups = {k: v.model_dump() for k, v in _default_node_groups().items()}
    return groups | overrides


def test_postgres_memory_parameters_follow_seed_000(plan_of) -> None:
    # Seed 000 Increase PostgreSQL Resources: shared_buffers 4GB, effective_cache_size 12GB,
    # maintenance_work_mem 1GB on the 16 GB baseline (8GB/24GB/2GB after doubling).
    (cluster,) = [
        r for r in plan_of("prod").resources if r.type == "kubernetes:postgresql.cnpg.io/v1:Cluster"
    ]
    params = cluster.inputs["spec"]["postgresql"]["parameters"]
    assert cluster.inputs["spec"]["resources"]["requests"]["memory"] == "16Gi"
    assert (params["shared_buffers"], params["effective_cache_size"], params["maintenance_work_mem"]) == (
        "4GB",
        "12GB",
        "1GB",
    )


def test_stack_files_name_only_types_with_node_figures() -> None:
    for path in REPO.glob("Pulumi.*.yaml"):
        groups = (yaml.safe_load(path.read_text())["config"].get("pipeline-infra:cluster") or {}).get(
            "node_groups"
        )
        for group in (groups or {}).values():
            assert group["instance_type"] in load()["instance_types"], (path.name, group)
