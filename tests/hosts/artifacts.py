"""What the local host's artifact bucket holds, built by the test: the module's release tarball, the
node exporter's release tarball and the CloudWatch agent's Debian package, laid out as the bootstrap
expects them.

Their contents are stand-ins (no module release, node exporter or agent binary is available offline):
the module program is a small Python server answering the health endpoint on the module's health port
and the admin endpoints the state backup calls, listening on its ports, writing its log under logs/;
the node exporter is a small Python server answering /metrics on the exporter's listen address; the
agent's package is a real Debian package (installed by the bootstrap's dpkg) whose control program
takes the configuration as the vendor's does (`-a fetch-config -m ec2 -s -c file:...`) and whose daemon
reads it and follows the files it names (there is no CloudWatch Logs to send to). The download, the
checksum, the installation, the units that run them and the checks on them are real."""

from __future__ import annotations

import gzip
import hashlib
import io
import tarfile

# Where the vendor's package installs the agent (its layout; components/fleet/cloud_init.py AGENT_DIR).
AGENT_HOME = "/opt/aws/amazon-cloudwatch-agent"

MODULE_PROGRAM = """#!/usr/bin/python3
# Stand-in for the {module} release (tests/hosts/artifacts.py): health endpoint and listeners.
import http.server, socket, sys, threading, time, yaml
cfg = yaml.safe_load(open(sys.argv[sys.argv.index("--config") + 1]))
log = open(cfg["paths"]["logs"] + "/{module}.log", "a", buffering=1)
log.write(time.strftime("%Y-%m-%dT%H:%M:%SZ") + " {module} stand-in started\\n")
ADMIN = ("/admin/pause", "/admin/resume", "/admin/drain")
class Health(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        ok = self.path in (cfg["listen"]["health_path"], "/admin/cache/export")
        self.send_response(200 if ok else 404); self.end_headers()
        self.wfile.write((b"{{}}\\n" if self.path.startswith("/admin") else b"ok\\n") if ok else b"")
    def do_POST(self):
        ok = self.path in ADMIN
        log.write("admin " + self.path + "\\n")
        self.send_response(200 if ok else 404); self.end_headers()
    def log_message(self, *a):
        log.write("health " + (a[0] % a[1:]) + "\\n")
for port in cfg["listen"]["ports"]:
    s = socket.create_server(("", port))
    threading.Thread(target=lambda s=s: [s.accept()], daemon=True).start()
http.server.ThreadingHTTPServer(("", cfg["listen"]["health_port"]), Health).serve_forever()
"""

NODE_EXPORTER = """#!/usr/bin/python3
# Stand-in for node_exporter {version} (tests/hosts/artifacts.py): /metrics on --web.listen-address.
import http.server, os, sys
addr = next(a.split("=", 1)[1] for a in sys.argv if a.startswith("--web.listen-address="))
host, _, port = addr.rpartition(":")
class Metrics(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        body = ('node_exporter_build_info{{version="{version}"}} 1\\n'
                'node_load1 %s\\n' % os.getloadavg()[0]).encode()
        self.send_response(200 if self.path == "/metrics" else 404)
        self.send_header("Content-Type", "text/plain; version=0.0.4"); self.end_headers()
        self.wfile.write(body if self.path == "/metrics" else b"")
    def log_message(self, *a):
        pass
http.server.ThreadingHTTPServer((host, int(port)), Metrics).serve_forever()
"""


AGENT_CTL = """#!/bin/bash
# Stand-in for amazon-cloudwatch-agent-ctl {version} (tests/hosts/artifacts.py): fetch-config from a
# file, as the vendor's does: the configuration is checked, kept under etc/amazon-cloudwatch-agent.d/
# and (-s) the agent restarted with it.
set -euo pipefail
action= mode= config= start=0
while [ $# -gt 0 ]; do
  case $1 in -a) action=$2; shift ;; -m) mode=$2; shift ;; -c) config=$2; shift ;; -s) start=1 ;; esac
  shift
done
[ "$action" = fetch-config ] && [ "$mode" = ec2 ] ||
  {{ echo "unsupported: -a $action -m $mode" >&2; exit 1; }}
src=${{config#file:}}
python3 -c 'import json, sys; json.load(open(sys.argv[1]))' "$src"
mkdir -p {home}/etc/amazon-cloudwatch-agent.d
install -m 0644 "$src" "{home}/etc/amazon-cloudwatch-agent.d/file_$(basename "$src")"
if [ "$start" = 1 ]; then systemctl daemon-reload; systemctl enable amazon-cloudwatch-agent;
  systemctl restart amazon-cloudwatch-agent; fi
"""

AGENT = """#!/usr/bin/python3
# Stand-in for amazon-cloudwatch-agent {version} (tests/hosts/artifacts.py): reads the configuration
# fetch-config kept and follows every file it collects (nothing to send them to offline).
import glob, json, os, signal, time
d = "{home}/etc/amazon-cloudwatch-agent.d"
cfg = [json.load(open(os.path.join(d, f))) for f in sorted(os.listdir(d))]
files = [c for doc in cfg for c in doc["logs"]["logs_collected"]["files"]["collect_list"]]
with open(cfg[0]["agent"]["logfile"], "a") as log:
    for c in files:
        log.write(time.strftime("%FT%TZ ") + "following %s -> %s (%d files now)\\n"
                  % (c["file_path"], c["log_group_name"], len(glob.glob(c["file_path"]))))
signal.pause()
"""

AGENT_UNIT = """[Unit]
Description=Amazon CloudWatch Agent (stand-in, tests/hosts/artifacts.py)
After=network.target

[Service]
Type=simple
ExecStart={home}/bin/amazon-cloudwatch-agent
Restart=on-failure

[Install]
WantedBy=multi-user.target
"""


def _tar(members: dict[str, tuple[int, bytes]], dirs: tuple[str, ...] = ()) -> bytes:
    """A .tar.gz that is the same bytes on every run (its digest is pinned before it is built)."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.GNU_FORMAT) as tar:
        for name in dirs:
            info = tarfile.TarInfo(name)
            info.type, info.mode, info.mtime = tarfile.DIRTYPE, 0o755, 0
            tar.addfile(info)
        for name, (mode, data) in members.items():
            info = tarfile.TarInfo(name)
            info.size, info.mode, info.mtime = len(data), mode, 0
            tar.addfile(info, io.BytesIO(data))
    return gzip.compress(buf.getvalue(), mtime=0)


def _ar(members: dict[str, bytes]) -> bytes:
    """An ar archive (the .deb container): global header, then each member's 60-byte header."""
    out = bytearray(b"!<arch>\n")
    for name, data in members.items():
        out += f"{name:<16}{0:<12}{0:<6}{0:<6}{0o100644:<8o}{len(data):<10}`\n".encode()
        out += data + (b"\n" if len(data) % 2 else b"")
    return bytes(out)


def module_tarball(module: str) -> bytes:
    return _tar(
        {
            f"bin/{module}": (0o755, MODULE_PROGRAM.format(module=module).encode()),
            f"lib/{module}-core.txt": (0o644, f"{module} stand-in library\n".encode()),
        }
    )


def node_exporter_tarball(version: str) -> bytes:
    top = f"node_exporter-{version}.linux-amd64"
    return _tar(
        {
            f"{top}/node_exporter": (0o755, NODE_EXPORTER.format(version=version).encode()),
            f"{top}/LICENSE": (0o644, b"stand-in\n"),
        }
    )


def agent_package(version: str) -> bytes:
    """amazon-cloudwatch-agent.deb of `version`: a Debian package dpkg installs (control, data)."""
    home = AGENT_HOME.lstrip("/")
    fill = {"version": version, "home": AGENT_HOME}
    control = (
        f"Package: amazon-cloudwatch-agent\nVersion: {version}\nArchitecture: amd64\n"
        "Maintainer: pipeline-infra tests <tests@localhost>\n"
        "Description: stand-in for the CloudWatch agent (tests/hosts/artifacts.py)\n"
    )
    parents = ["./", "./opt/", "./opt/aws/", f"./{home}/", f"./{home}/bin/", f"./{home}/etc/",
               "./etc/", "./etc/systemd/", "./etc/systemd/system/"]
    data = _tar(
        {
            f"./{home}/bin/amazon-cloudwatch-agent-ctl": (0o755, AGENT_CTL.format(**fill).encode()),
            f"./{home}/bin/amazon-cloudwatch-agent": (0o755, AGENT.format(**fill).encode()),
            "./etc/systemd/system/amazon-cloudwatch-agent.service": (
                0o644,
                AGENT_UNIT.format(**fill).encode(),
            ),
        },
        dirs=tuple(parents),
    )
    return _ar(
        {
            "debian-binary": b"2.0\n",
            "control.tar.gz": _tar({"./control": (0o644, control.encode())}, dirs=("./",)),
            "data.tar.gz": data,
        }
    )


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()
