"""The checked-in waivers (policies/waivers.yaml): each has a sound reason and names an image a stack
still runs unpinned; a waiver breaking either rule fails here. A waived image's finding is advisory and
shows the reason; an image nobody waived stays a mandatory finding."""

from __future__ import annotations

import copy

import pytest
import yaml

from lib import versions
from policies import waivers
from policies.props import Res
from policies.rules import RULES_BY_NAME

COMMITTED = yaml.safe_load(waivers.PATH.read_text(encoding="utf-8"))
# Every image reference lib/versions.py pins (the one place versions live).
PINNED_IMAGES = {*versions.IMAGES.values(), versions.POSTGRES_IMAGE}
REASON = "digest to be pinned at release, resolved from the registry for the tag in lib/versions.py"


def stale(data: dict) -> list[str]:
    """Waived images that lib/versions.py does not pin any more, or pins by digest already."""
    running = {waivers.repository(i): i for i in PINNED_IMAGES}
    out = []
    for entry in data.get("images") or []:
        repo = waivers.repository(entry["image"])
        if repo not in running:
            out.append(f"{entry['image']}: no image of lib/versions.py")
        elif waivers._DIGEST.search(running[repo]):
            out.append(f"{entry['image']}: pinned by digest in lib/versions.py")
    return out


def test_the_committed_waivers_are_sound_and_current():
    assert waivers.problems_of(COMMITTED) == []
    assert stale(COMMITTED) == []
    assert waivers.load().images  # the file is read, not empty by accident


@pytest.mark.parametrize(
    ("entry", "problem"),
    [
        ({"image": "docker.io/library/postgres"}, "needs exactly image and reason"),
        ({"image": "docker.io/library/postgres", "reason": ""}, "no sound reason"),
        (
            {"image": "docker.io/library/postgres", "reason": "TODO: pin it later, once we get round to it"},
            "no sound reason",
        ),
        ({"image": "docker.io/library/postgres", "reason": "later"}, "no sound reason"),
        ({"image": "docker.io/library/postgres@sha256:" + "0" * 64, "reason": REASON}, "pinned by digest"),
    ],
)
def test_a_waiver_without_a_sound_reason_is_refused(entry, problem):
    data = {"images": [entry], "checkov": []}
    found = waivers.problems_of(data)
    assert any(problem in p for p in found), found
    with pytest.raises(ValueError, match=problem.split()[0]):
        waivers.parse(data)


def test_a_checkov_waiver_needs_its_resource_and_reason():
    data = {"images": [], "checkov": [{"check": "CKV_K8S_40", "reason": REASON}]}
    assert waivers.problems_of(data) == ["checkov[0]: needs exactly check, resource and reason"]
    twice = {"images": [{"image": "docker.io/x/y", "reason": REASON}] * 2}
    assert "waived twice" in waivers.problems_of(twice)[0]


def test_a_waiver_for_an_image_no_stack_runs_is_stale():
    data = copy.deepcopy(COMMITTED)
    data["images"].append({"image": "docker.io/library/nginx", "reason": REASON})
    assert stale(data) == ["docker.io/library/nginx: no image of lib/versions.py"]


def _deployment(image: str) -> Res:
    spec = {"template": {"spec": {"containers": [{"name": "app", "image": image}]}}}
    return Res("kubernetes:apps/v1:Deployment", "urn:x::app", "app", {"spec": spec}, {})


def test_a_waived_image_is_advisory_with_its_reason_and_an_unwaived_one_mandatory():
    waived = _deployment(versions.IMAGES["postgres"])
    assert RULES_BY_NAME["images-pinned-by-digest"].run(waived) == []
    [message] = RULES_BY_NAME["images-pinned-by-digest-waived"].run(waived)
    assert waivers.image_reason(versions.IMAGES["postgres"]) in message
    assert RULES_BY_NAME["images-pinned-by-digest-waived"].enforcement == "advisory"
    other = _deployment("docker.io/library/nginx:1.27")
    assert RULES_BY_NAME["images-pinned-by-digest"].run(other)
    assert RULES_BY_NAME["images-pinned-by-digest"].enforcement == "mandatory"
    assert RULES_BY_NAME["images-pinned-by-digest-waived"].run(other) == []
