"""What the local host's artifact bucket holds, built by the test: the module's release tarball and
the node exporter's release tarball, laid out as the bootstrap expects them.

Their contents are stand-ins (no module release or node exporter binary is available offline): the
module program is a small Python server answering the health endpoint on the module's health port and
listening on its ports, writing its log under logs/; the node exporter is a small Python server
answering /metrics on the exporter's listen address. The download, the checksum, the installation,
the units that run them and the checks on them are real."""

from __future__ import annotations

import gzip
import hashlib
import io
import tarfile

MODULE_PROGRAM = """#!/usr/bin/python3
# Stand-in for the {module} release (tests/hosts/artifacts.py): health endpoint and listeners.
import http.server, socket, sys, threading, time, yaml
cfg = yaml.safe_load(open(sys.argv[sys.argv.index("--config") + 1]))
log = open(cfg["paths"]["logs"] + "/{module}.log", "a", buffering=1)
log.write(time.strftime("%Y-%m-%dT%H:%M:%SZ") + " {module} stand-in started\\n")
class Health(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        ok = self.path == cfg["listen"]["health_path"]
        self.send_response(200 if ok else 404); self.end_headers()
        self.wfile.write(b"ok\\n" if ok else b"")
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


def _tar(members: dict[str, tuple[int, bytes]]) -> bytes:
    """A .tar.gz that is the same bytes on every run (its digest is pinned before it is built)."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.GNU_FORMAT) as tar:
        for name, (mode, data) in members.items():
            info = tarfile.TarInfo(name)
            info.size, info.mode, info.mtime = len(data), mode, 0
            tar.addfile(info, io.BytesIO(data))
    return gzip.compress(buf.getvalue(), mtime=0)


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


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()
