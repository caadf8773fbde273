"""Kubernetes quantities and cron expressions, parsed by the rules the operators apply (pure: no
Pulumi): quantities as Kubernetes reads them, crons as robfig/cron does (Scylla Operator's parser; the
settings use the same rules so that a schedule the operator would refuse is a settings error)."""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation

_SUFFIX = {
    "": 1,
    "m": Decimal("0.001"),
    "k": 10**3,
    "M": 10**6,
    "G": 10**9,
    "T": 10**12,
    "P": 10**15,
    "E": 10**18,
    "Ki": 2**10,
    "Mi": 2**20,
    "Gi": 2**30,
    "Ti": 2**40,
    "Pi": 2**50,
    "Ei": 2**60,
}


_QTY = re.compile(r"^([+-]?[0-9.]+)(m|k|M|G|T|P|E|Ki|Mi|Gi|Ti|Pi|Ei)?$")


_DESCRIPTORS = {"@yearly", "@annually", "@monthly", "@weekly", "@daily", "@midnight", "@hourly"}


_EVERY = re.compile(r"^@every ([0-9]+(\.[0-9]+)?(ns|us|µs|ms|s|m|h))+$")


_MONTHS = {
    m: i + 1
    for i, m in enumerate(
        ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"]
    )
}


_DAYS = {d: i for i, d in enumerate(["sun", "mon", "tue", "wed", "thu", "fri", "sat"])}


# seconds, minutes, hours, day of month, month, day of week
_BOUNDS = [(0, 59, {}), (0, 59, {}), (0, 23, {}), (1, 31, {}), (1, 12, _MONTHS), (0, 6, _DAYS)]


def quantity(text: str) -> Decimal:
    """A Kubernetes resource quantity as a number (cpu cores or bytes)."""
    m = _QTY.match(str(text))
    if not m:
        raise ValueError(f"{text!r} is not a Kubernetes quantity")
    try:
        return Decimal(m.group(1)) * _SUFFIX[m.group(2) or ""]
    except InvalidOperation:
        raise ValueError(f"{text!r} is not a Kubernetes quantity") from None


def positive(text: str) -> bool:
    return quantity(text) > 0


def _value(field: str, names: dict[str, int]) -> int:
    return names[field.lower()] if field.lower() in names else int(field)


def _check_field(field: str, lo: int, hi: int, names: dict[str, int]) -> None:
    for part in field.split(","):
        rng, _, step = part.partition("/")
        if step and (not step.isdigit() or int(step) == 0):
            raise ValueError(f"bad step in {part!r}")
        if rng in ("*", "?"):
            continue
        start, _, end = rng.partition("-")
        a = _value(start, names)
        b = _value(end, names) if end else a
        if not (lo <= a <= hi and lo <= b <= hi and a <= b):
            raise ValueError(f"{part!r} is outside {lo}-{hi}")


def cron_error(expr: str) -> str | None:
    """None when the operator's cron parser accepts `expr`, else the reason."""
    if "TZ" in expr:
        return "can't use TZ or CRON_TZ in cron, use timezone instead"
    expr = expr.strip()
    if expr.startswith("@"):
        return None if expr in _DESCRIPTORS or _EVERY.match(expr) else f"unknown descriptor {expr!r}"
    fields = expr.split()
    if len(fields) not in (5, 6):
        return f"expected 5 or 6 fields, found {len(fields)}"
    bounds = _BOUNDS if len(fields) == 6 else _BOUNDS[1:]
    try:
        for field, (lo, hi, names) in zip(fields, bounds, strict=True):
            _check_field(field, lo, hi, names)
    except (ValueError, KeyError) as exc:
        return f"{expr!r}: {exc}"
    return None


def check_cron(expr: str, *, seconds: bool) -> str:
    """A cron expression with five fields (or six, seconds first, when `seconds`); no time zone. The
    fields are checked by the same parser rules as the operators' (cron_error below)."""
    want = 6 if seconds else 5
    if "TZ" in expr or len(expr.split()) != want:
        form = (
            "six fields (second minute hour day month weekday)"
            if seconds
            else "five fields (minute hour day month weekday)"
        )
        raise ValueError(f"must be a cron expression of {form} without a time zone (got {expr!r})")
    error = cron_error(expr)
    if error:
        raise ValueError(f"must be a cron expression the operators accept: {error}")
    return expr
