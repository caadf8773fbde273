"""Checks of a module host, as functions of a testinfra host, so that each can be run against a
violating fixture (tests/hosts/test_checks_fail.py) as well as against the hosts (test_host.py).
Each raises AssertionError naming what is wrong."""

from __future__ import annotations

import re
from typing import Any

# 003 Module Deployment Step 2: executables 755, configuration files 640, data directories 750.
EXECUTABLE, CONFIG, DATA = 0o755, 0o640, 0o750
SERVICE_USER = "pipeline"
# What a secret looks like in a file: AWS access keys, private keys, a password/secret/token key with a
# literal value (a reference such as ssm:/... is not a secret).
SECRET_PATTERNS = (
    r"AKIA[0-9A-Z]{16}",
    r"-----BEGIN [A-Z ]*PRIVATE KEY-----",
    r"(?i)(password|passwd|secret_access_key|secret|api_key)\s*[:=]\s*['\"]?(?!ssm:|arn:|\$|\{)[^\s'\"]{6,}",
)
SECRET_KEY = re.compile(r"(?i)(password|passwd|secret|api_key|private_key|token)")


def layout(host, base: str, dirs: set[str]) -> None:
    """The module tree: exactly `dirs` under base; bin and lib root's and 755, every executable in bin
    755; config root:pipeline 750 with every file 640; data directories pipeline's and 750."""
    actual = set(host.file(base).listdir())
    assert actual == dirs, f"{base} holds {sorted(actual)}, expected {sorted(dirs)}"
    for d in ("bin", "lib"):
        f = host.file(f"{base}/{d}")
        assert (f.mode, f.user) == (EXECUTABLE, "root"), f"{base}/{d}: {oct(f.mode)} {f.user}"
    for name in host.file(f"{base}/bin").listdir():
        f = host.file(f"{base}/bin/{name}")
        assert f.mode == EXECUTABLE and f.user == "root", f"{base}/bin/{name}: {oct(f.mode)} {f.user}"
    cfg = host.file(f"{base}/config")
    assert (cfg.mode, cfg.user, cfg.group) == (DATA, "root", SERVICE_USER), f"{base}/config: {oct(cfg.mode)}"
    files = host.check_output(f"find {base}/config -type f").split()
    assert files, f"{base}/config holds no file"
    for path in files:
        f = host.file(path)
        assert (f.mode, f.group) == (CONFIG, SERVICE_USER), f"{path}: {oct(f.mode)} {f.user}:{f.group}"
    for d in sorted(dirs - {"bin", "lib", "config", "templates"}):
        f = host.file(f"{base}/{d}")
        assert f.is_directory and f.mode == DATA and f.user == SERVICE_USER, (
            f"{base}/{d}: {oct(f.mode)} {f.user}"
        )


def secret_keys(doc: Any, path: str = "") -> list[str]:
    """Keys of a config document that hold a secret value (a literal, not a reference)."""
    found: list[str] = []
    if isinstance(doc, dict):
        for k, v in doc.items():
            here = f"{path}.{k}" if path else str(k)
            reference = isinstance(v, str) and v.startswith(("ssm:", "arn:"))
            if SECRET_KEY.search(str(k)) and not reference and not isinstance(v, dict | list):
                found.append(here)
            found += secret_keys(v, here)
    elif isinstance(doc, list):
        for i, v in enumerate(doc):
            found += secret_keys(v, f"{path}[{i}]")
    return found


def world_readable_secrets(host, roots: list[str]) -> list[str]:
    """Files under `roots` that any user can read (every directory above them searchable by others,
    the file readable by others) and whose content looks like a secret."""
    pattern = "|".join(f"(?:{p})" for p in SECRET_PATTERNS).replace("'", "'\\''")
    cmd = (
        f"find {' '.join(roots)} -xdev -type f -perm -o+r -size -4M -print0 2>/dev/null"
        f" | xargs -0 -r grep -lIP '{pattern}' || true"
    )
    return [path for path in host.check_output(cmd).split() if _reachable(host, path)]


def _reachable(host, path: str) -> bool:
    parts = path.strip("/").split("/")[:-1]
    for i in range(len(parts)):
        d = host.file("/" + "/".join(parts[: i + 1]))
        if not d.mode & 0o001:
            return False
    return True


def every_four_hours(next_elapses: list[str]) -> None:
    """The timer's next elapses (HH:MM:SS) are on the hour, four hours apart (003 Backup Schedules)."""
    assert next_elapses, "no elapse"
    for t in next_elapses:
        h, m, s = (int(x) for x in t.split(":"))
        assert (h % 4, m, s) == (0, 0, 0), f"elapse at {t} is not every 4 hours at :00"


# An address on the internet (a public resolver's): no fleet security group lets a host reach it.
INTERNET = ("1.1.1.1", 443)


def internet_unreachable(host, target: tuple[str, int] = INTERNET) -> bool:
    """True when a TCP connection from the host to `target` fails (no route, refused or timed out)."""
    address, port = target
    code = (
        f"import socket\ntry:\n socket.create_connection(({address!r}, {port}), timeout=4).close();"
        " print('connected')\nexcept OSError as e: print('failed', e)"
    )
    out = host.check_output(f"python3 -c \"{code}\"")
    assert out.startswith("failed"), f"the host reached {target[0]}:{target[1]} ({out})"
    return True


def egress_allows_only_s3_and_vpc(rules: list[dict[str, Any]]) -> None:
    """A fleet security group's egress rules: nothing to the internet (no 0.0.0.0/0, ::/0), S3 only on
    443 through the gateway endpoint's prefix list; the rest to the VPC or to other security groups.
    (The local host's namespace offers S3 on 443 and nothing else: a subset of these rules.)"""
    assert rules, "no egress rule"
    for r in rules:
        cidr = r.get("cidrIpv4") or r.get("cidrIpv6")
        assert cidr not in ("0.0.0.0/0", "::/0"), f"egress to the internet: {r}"
    s3 = [r for r in rules if r.get("prefixListId")]
    assert s3 and all((r["fromPort"], r["toPort"], r["ipProtocol"]) == (443, 443, "tcp") for r in s3), s3
