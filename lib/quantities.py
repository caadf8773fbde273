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
    fields are checked by the same parser rules as the operators' (cron_error below), and the schedule
    must fire (a day such as 31 February never comes)."""
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
    if never_fires(expr):
        raise ValueError(f"never fires: {expr!r} names no date that exists (such as 31 February)")
    return expr


# --- when a cron fires ------------------------------------------------------------------------------
# robfig/cron's descriptors as the cron lines they stand for (@every is a fixed interval).
_DESCRIPTOR_LINES = {
    "@yearly": "0 0 1 1 *",
    "@annually": "0 0 1 1 *",
    "@monthly": "0 0 1 * *",
    "@weekly": "0 0 * * 0",
    "@daily": "0 0 * * *",
    "@midnight": "0 0 * * *",
    "@hourly": "0 * * * *",
}
_DURATION = re.compile(r"([0-9]+(?:\.[0-9]+)?)(ns|us|µs|ms|s|m|h)")
_SECONDS = {"ns": 1e-9, "us": 1e-6, "µs": 1e-6, "ms": 1e-3, "s": 1, "m": 60, "h": 3600}
# Eight years from a fixed day: every calendar date (29 February included) occurs in it, so a schedule
# that does not fire here never fires, and the gaps seen are all the gaps there are.
_WINDOW_START = (2024, 1, 1)
_WINDOW_DAYS = 8 * 366


def _expand(field: str, lo: int, hi: int, names: dict[str, int]) -> tuple[set[int], bool]:
    """The values a field matches, and whether it is robfig's `*` (a star without a step above 1)."""
    values: set[int] = set()
    star = False
    for part in field.split(","):
        rng, _, step_text = part.partition("/")
        step = int(step_text) if step_text else 1
        if rng in ("*", "?"):
            start, end = lo, hi
            star = star or step == 1
        else:
            first, _, last = rng.partition("-")
            start = _value(first, names)
            end = _value(last, names) if last else (hi if step_text else start)
        values.update(range(start, end + 1, step))
    return values, star


def _fields(expr: str) -> list[str]:
    expr = expr.strip()
    fields = _DESCRIPTOR_LINES.get(expr, expr).split()
    return fields if len(fields) == 6 else ["0", *fields]


def max_interval_seconds(expr: str) -> float | None:
    """The longest time in seconds between two consecutive runs of a cron the operators accept (robfig
    semantics: day of month OR day of week when both are restricted); None when it never fires."""
    import datetime as dt

    every = _EVERY.match(expr.strip())
    if every:
        text = expr.strip().removeprefix("@every ")
        return sum(float(n) * _SECONDS[u] for n, u in _DURATION.findall(text))
    sec, minute, hour, dom, month, dow = (
        _expand(f, lo, hi, names) for f, (lo, hi, names) in zip(_fields(expr), _BOUNDS, strict=True)
    )
    times = sorted(h * 3600 + m * 60 + s for h in hour[0] for m in minute[0] for s in sec[0])
    day = dt.date(*_WINDOW_START)
    days: list[int] = []
    for offset in range(_WINDOW_DAYS):
        d = day + dt.timedelta(days=offset)
        if d.month not in month[0]:
            continue
        dom_match, dow_match = d.day in dom[0], (d.isoweekday() % 7) in dow[0]
        fires = (dom_match and dow_match) if (dom[1] or dow[1]) else (dom_match or dow_match)
        if fires:
            days.append(offset)
    if not days or not times:
        return None
    within = max((b - a for a, b in zip(times, times[1:], strict=False)), default=0)
    across = max(
        ((b - a) * 86400 - times[-1] + times[0] for a, b in zip(days, days[1:], strict=False)),
        default=0,
    )
    return float(max(within, across))


def never_fires(expr: str) -> bool:
    """True when a cron names no date that exists (such as 0 0 31 2 *: 31 February)."""
    return max_interval_seconds(expr) is None
