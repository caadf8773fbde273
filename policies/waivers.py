"""The checked-in waivers (policies/waivers.yaml): an image not pinned by digest yet, or a checkov
check on one rendered resource, each with its reason. Read by the images-pinned-by-digest rules and
by the checkov run over the rendered manifests; kept beside the pack (`pulumi policy publish`
uploads this folder only)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import yaml

PATH = Path(__file__).with_name("waivers.yaml")
# A sound reason says why, in a sentence: not empty, not a placeholder.
MIN_REASON = 40
_PLACEHOLDER = re.compile(r"^(todo|tbd|fixme|n/?a|none|waived?|temporary|later)\b", re.I)
_DIGEST = re.compile(r"@sha256:[0-9a-f]{64}$")


@dataclass(frozen=True)
class Waivers:
    images: dict[str, str]  # repository -> reason
    checkov: dict[tuple[str, str], str]  # (check id, resource) -> reason


def repository(image: str) -> str:
    """The repository of an image reference (no tag, no digest)."""
    ref = image.split("@", 1)[0]
    head, _, tail = ref.rpartition(":")
    return head if head and "/" not in tail else ref


def problems_of(data: Any) -> list[str]:
    """What is wrong with a parsed waivers file (an empty list when nothing is)."""
    out = []
    if not isinstance(data, dict) or set(data) - {"images", "checkov"}:
        return ["waivers.yaml holds `images` and `checkov` lists only"]
    seen: set[Any] = set()
    for kind, keys in (("images", ("image",)), ("checkov", ("check", "resource"))):
        for i, entry in enumerate(data.get(kind) or []):
            where = f"{kind}[{i}]"
            if not isinstance(entry, dict) or set(entry) != {*keys, "reason"}:
                out.append(f"{where}: needs exactly {', '.join(keys)} and reason")
                continue
            key = tuple(entry[k] for k in keys)
            if key in seen:
                out.append(f"{where}: {key} is waived twice")
            seen.add(key)
            reason = entry["reason"]
            if (
                not isinstance(reason, str)
                or len(reason.strip()) < MIN_REASON
                or _PLACEHOLDER.match(reason.strip())
            ):
                out.append(f"{where} ({', '.join(map(str, key))}): no sound reason (a sentence saying why)")
            if kind == "images" and _DIGEST.search(str(entry["image"])):
                out.append(f"{where}: {entry['image']} is pinned by digest: nothing to waive")
    return out


def parse(data: Any) -> Waivers:
    problems = problems_of(data)
    if problems:
        raise ValueError(f"{PATH.name}: " + "; ".join(problems))
    return Waivers(
        images={repository(e["image"]): e["reason"].strip() for e in data.get("images") or []},
        checkov={(e["check"], e["resource"]): e["reason"].strip() for e in data.get("checkov") or []},
    )


@cache
def load() -> Waivers:
    return parse(yaml.safe_load(PATH.read_text(encoding="utf-8")))


def image_reason(image: str) -> str | None:
    """The reason an image not pinned by digest is waived, or None."""
    return load().images.get(repository(image))
