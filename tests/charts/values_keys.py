"""Do the values the project hands a chart name keys that chart reads? (pure: no Pulumi, no I/O)

A key path the project sets must exist in the chart's own values.yaml at the pinned version, except
below a value the chart passes through unread: a free-form map (its default is `{}` or null), a list,
or a Kubernetes object the chart copies with toYaml (resources, affinity, nodeSelector, ...). A key
the chart documents only in a comment (a commented-out example) is accepted when it is listed in
`documented` with the comment's text, which must occur in the values file.
"""

from __future__ import annotations

from typing import Any

# Values every chart copies into a pod spec or object metadata as given (toYaml of a Kubernetes type).
PASS_THROUGH = frozenset(
    {
        "resources",
        "affinity",
        "nodeSelector",
        "tolerations",
        "securityContext",
        "podSecurityContext",
        "containerSecurityContext",
        "annotations",
        "labels",
        "podAnnotations",
        "podLabels",
        "topologySpreadConstraints",
    }
)


def merged(base: Any, over: Any) -> Any:
    """`over` deep-merged onto `base` (how Helm merges a parent chart's section onto a subchart's)."""
    if isinstance(base, dict) and isinstance(over, dict):
        out = dict(base)
        for key, value in over.items():
            out[key] = merged(base.get(key), value)
        return out
    return base if over is None else over


def unknown_keys(
    ours: dict[str, Any],
    chart: Any,
    *,
    documented: dict[str, str] | None = None,
    text: str = "",
    free_form: frozenset[str] = frozenset(),
) -> list[str]:
    """The dotted key paths of `ours` the chart's values (`chart`, its parsed values.yaml) do not
    have; `documented` maps accepted paths to the comment of values.yaml (`text`) that documents them;
    `free_form` names paths the chart documents as free-form (not walked into)."""
    documented = documented or {}
    problems: list[str] = []

    def walk(value: dict[str, Any], default: Any, path: tuple[str, ...]) -> None:
        for key, sub in value.items():
            here = (*path, str(key))
            dotted = ".".join(here)
            if dotted in documented:
                if documented[dotted] not in text:
                    comment = documented[dotted]
                    problems.append(f"{dotted}: documented as {comment!r}, not in the chart's values")
                continue
            if not isinstance(default, dict) or key not in default:
                problems.append(f"{dotted}: not a key of the chart's values")
                continue
            chart_value = default[key]
            if dotted in free_form or key in PASS_THROUGH or chart_value is None or chart_value == {}:
                continue  # free-form: the chart copies it as given
            if isinstance(sub, dict):
                if isinstance(chart_value, dict):
                    walk(sub, chart_value, here)
                else:
                    problems.append(f"{dotted}: a map, where the chart has {type(chart_value).__name__}")

    walk(ours, chart, ())
    return problems
