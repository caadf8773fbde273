"""Runbooks behind the alerts: docs/runbooks/<runbook>.md in seed 002's template (Creating New
Runbooks: Severity, Symptoms, Diagnosis, Resolution, Prevention, Related Monitoring). No Pulumi
import. check() lists every broken link between the alert rules and the runbooks, both ways."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

FOLDER = Path(__file__).resolve().parents[2] / "docs" / "runbooks"
# seed 002 Creating New Runbooks: the template's sections, in order
SECTIONS = ("Symptoms", "Diagnosis", "Resolution", "Prevention", "Related Monitoring")
SEVERITIES = ("Critical", "High", "Medium", "Low", "Info")
# Procedure pages written before the template (cutover, DR drill, silences): prose guides, kept as they are.
GUIDES = ("blue-green-cutover", "dr-drill", "dr-failback", "maintenance-silences")
INDEX = "README"
_SEVERITY = re.compile(r"^\*\*Severity\*\*: (\w+)\s*$", re.MULTILINE)
_HEADING = re.compile(r"^## (.+?)\s*$", re.MULTILINE)
_ALERTS = re.compile(r"^- Alerts: (.+)$", re.MULTILINE)
_CODE = re.compile(r"`([^`]+)`")


def alerts_named(text: str) -> list[str]:
    """The alerts a runbook names: the backticked names of its `- Alerts:` lines."""
    return [name for line in _ALERTS.findall(text) for name in _CODE.findall(line)]


def check(alerts: Iterable[Mapping[str, Any]], folder: Path = FOLDER) -> list[str]:
    """Every problem, one line each (empty: all links hold):
    - an alert names a runbook whose file does not exist;
    - a runbook lacks the template's severity or sections (in order);
    - a runbook names an alert that does not exist;
    - an alert runbook (runbook-*.md) that no alert names, that does not list every alert naming it,
      or whose severity is not the highest of its alerts';
    - a runbook missing from the index (README.md)."""
    rules = list(alerts)
    by_name = {r["alert"]: r for r in rules}
    naming: dict[str, list[str]] = {}
    for r in rules:
        naming.setdefault(r["runbook"], []).append(r["alert"])
    files = {p.stem: p for p in sorted(folder.glob("*.md"))}
    errors = [
        f"{alert}: runbook {rb}.md does not exist"
        for rb, names in naming.items()
        if rb not in files
        for alert in names
    ]
    index = files[INDEX].read_text(encoding="utf-8") if INDEX in files else ""
    for stem, path in files.items():
        if stem == INDEX:
            continue
        if f"({stem}.md)" not in index:
            errors.append(f"{path.name}: not listed in {INDEX}.md")
        if stem in GUIDES:
            continue
        text = path.read_text(encoding="utf-8")
        severity = _SEVERITY.search(text)
        if severity is None or severity.group(1) not in SEVERITIES:
            errors.append(f"{path.name}: no '**Severity**: <{'|'.join(SEVERITIES)}>' line")
        headings = [h for h in _HEADING.findall(text) if h in SECTIONS]
        if headings != list(SECTIONS):
            errors.append(f"{path.name}: sections {headings}, the template needs {list(SECTIONS)}")
        listed = alerts_named(text)
        errors += [f"{path.name}: names alert {a}, which does not exist" for a in listed if a not in by_name]
        if not stem.startswith("runbook-"):
            continue
        if stem not in naming:
            errors.append(f"{path.name}: no alert names this runbook")
            continue
        errors += [f"{path.name}: does not list {a}, which names it" for a in naming[stem] if a not in listed]
        highest = min(SEVERITIES.index(by_name[a]["severity"].title()) for a in naming[stem])
        if severity is not None and severity.group(1) != SEVERITIES[highest]:
            errors.append(
                f"{path.name}: severity {severity.group(1)}, its alerts' highest is {SEVERITIES[highest]}"
            )
    return errors
