"""A real local host for the host suite: the fleets' image (Debian 12, scripts/host-root.sh) booted by
systemd-nspawn with systemd as PID 1, its user data the plan's rendered cloud-init, executed by
cloud-init's own modules (NoCloud seed), inside network namespaces whose only egress is what the
fleet's security groups allow (components/network/flows.py: S3 through the gateway endpoint on 443,
the VPC's endpoints and data plane; never the internet).

The network, all of it made here and removed afterwards:

  <tag>-vpc   a namespace standing for the VPC's endpoints: a bridge with 10.20.1.1, the artifact
              bucket's S3 stand-in on 10.20.1.20:443 (moto's S3 server, TLS with a CA made per run)
              and the instance metadata stand-in on 169.254.169.254:80 (moto's instance metadata)
  <tag>-hN    one namespace per host, a veth into the bridge (10.20.1.1N/24), a route to the metadata
              address; no default route: every other address (the internet) is unreachable

The S3 names of the buckets resolve to the stand-in through the host's /etc/hosts, and the run's CA
is added to the host's trust store: the download, its TLS, its checksum and its installation are the
bootstrap's own. What is a stand-in: moto for S3 and IMDS, the loop device for the EBS data volume
(bound to /dev/sdf), and the contents of the tarballs (tests/hosts/artifacts.py). The test setup
writes only outside the user data: the NoCloud seed, cloud-init's datasource list, /etc/hosts, the
CA, root's authorized key.

Everything here needs root (namespaces, mounts, loop devices, nspawn).
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
GATEWAY = "10.20.1.1"
S3_ADDRESS = "10.20.1.20"
IMDS_ADDRESS = "169.254.169.254"
SUBNET_PREFIX = 24
MOTO_VENV = Path(os.environ.get("HOSTS_VENV", REPO / ".venv-hosts"))
DATA_VOLUME_BYTES = 1 << 30  # sparse: what the host writes is all it takes
BOOT_TIMEOUT = float(os.environ.get("HOSTS_BOOT_TIMEOUT", "240"))


def run(*args: str, netns: str | None = None, check: bool = True, **kw) -> subprocess.CompletedProcess:
    cmd = (["ip", "netns", "exec", netns] if netns else []) + list(args)
    return subprocess.run(cmd, check=check, capture_output=True, text=True, **kw)


def why_not() -> str | None:
    """Why a local host cannot be booted here (None when it can)."""
    if os.geteuid() != 0:
        return "booting a local host needs root (network namespaces, mounts, loop devices)"
    for tool in ("systemd-nspawn", "debootstrap", "ip", "losetup", "openssl", "ssh", "ssh-keygen"):
        if shutil.which(tool) is None:
            return f"{tool} is missing (make engines installs it)"
    if not (MOTO_VENV / "bin" / "moto_server").exists():
        return f"{MOTO_VENV}/bin/moto_server is missing (make hosts-venv installs it)"
    return None


def build_root() -> Path:
    """The cached root (built once per machine and package list)."""
    out = subprocess.run(["bash", str(REPO / "scripts/host-root.sh")], capture_output=True, text=True)
    if out.returncode != 0:
        raise RuntimeError(f"scripts/host-root.sh failed: {out.stderr[-2000:]}")
    return Path(out.stdout.strip().splitlines()[-1])


# --- the CA and the S3 stand-in's certificate -----------------------------------------------------
def make_ca(work: Path, region: str, addresses: tuple[str, ...]) -> tuple[Path, Path, Path]:
    """(ca.pem, server.pem, server.key): a CA made for this run and a certificate for every S3 name of
    the region (virtual-hosted style, what the bootstrap requests) and the stand-ins' addresses."""
    ca_key, ca, key, csr, crt = (work / n for n in ("ca.key", "ca.pem", "s3.key", "s3.csr", "s3.pem"))
    ossl = ["openssl"]
    subprocess.run(
        ossl
        + [
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "2",
            "-subj",
            "/CN=pipeline-infra local host test CA",
            "-keyout",
            str(ca_key),
            "-out",
            str(ca),
        ],
        check=True,
        capture_output=True,
    )
    subprocess.run(
        ossl
        + [
            "req",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-subj",
            f"/CN=s3.{region}.amazonaws.com",
            "-keyout",
            str(key),
            "-out",
            str(csr),
        ],
        check=True,
        capture_output=True,
    )
    ext = work / "s3.ext"
    ips = ",".join(f"IP:{a}" for a in addresses)
    ext.write_text(f"subjectAltName=DNS:*.s3.{region}.amazonaws.com,DNS:s3.{region}.amazonaws.com,{ips}\n")
    subprocess.run(
        ossl
        + [
            "x509",
            "-req",
            "-in",
            str(csr),
            "-CA",
            str(ca),
            "-CAkey",
            str(ca_key),
            "-CAcreateserial",
            "-days",
            "2",
            "-extfile",
            str(ext),
            "-out",
            str(crt),
        ],
        check=True,
        capture_output=True,
    )
    return ca, crt, key


# --- the VPC stand-in namespace ---------------------------------------------------------------------
@dataclass
class Vpc:
    tag: str
    work: Path
    region: str
    extra_s3: tuple[str, ...] = ()
    ca: Path | None = None
    servers: list[subprocess.Popen] = field(default_factory=list)
    hosts: int = 0

    @property
    def netns(self) -> str:
        return f"{self.tag}-vpc"

    def up(self) -> None:
        ns = self.netns
        run("ip", "netns", "add", ns)
        run("ip", "link", "set", "lo", "up", netns=ns)
        run("ip", "link", "add", "br0", "type", "bridge", netns=ns)
        s3 = (S3_ADDRESS, *self.extra_s3)
        for addr in (f"{GATEWAY}/{SUBNET_PREFIX}", *(f"{a}/32" for a in s3), f"{IMDS_ADDRESS}/32"):
            run("ip", "addr", "add", addr, "dev", "br0", netns=ns)
        run("ip", "link", "set", "br0", "up", netns=ns)
        self.ca, crt, key = make_ca(self.work, self.region, s3)
        moto = str(MOTO_VENV / "bin" / "moto_server")
        logs = self.work / "standins.log"
        with logs.open("ab") as log:
            for args in [
                *([moto, "-H", a, "-p", "443", "-c", str(crt), "-k", str(key)] for a in s3),
                [moto, "-H", IMDS_ADDRESS, "-p", "80"],
            ]:
                self.servers.append(
                    subprocess.Popen(
                        ["ip", "netns", "exec", ns, *args],
                        stdout=log,
                        stderr=subprocess.STDOUT,
                        start_new_session=True,
                    )
                )

    def s3_at(self, address: str, *args: str) -> str:
        """tests/hosts/s3_client.py against the S3 stand-in on `address`, in the VPC namespace, with
        moto's own Python (boto3)."""
        out = run(
            str(MOTO_VENV / "bin" / "python"),
            str(HERE / "s3_client.py"),
            f"https://{address}",
            str(self.ca),
            *args,
            netns=self.netns,
            check=False,
        )
        if out.returncode != 0:
            raise RuntimeError(f"s3 stand-in {args[:1]}: {out.stderr[-1500:]}")
        return out.stdout

    def attach(self, host_ns: str) -> str:
        """A veth from a host's namespace into the bridge; returns the host's address."""
        self.hosts += 1
        addr = f"10.20.1.{10 + self.hosts}"
        peer = f"vh{self.hosts}"
        run("ip", "netns", "add", host_ns)
        run(
            "ip",
            "link",
            "add",
            "name",
            peer,
            "netns",
            self.netns,
            "type",
            "veth",
            "peer",
            "name",
            "eth0",
            "netns",
            host_ns,
        )
        run("ip", "link", "set", peer, "master", "br0", "up", netns=self.netns)
        run("ip", "link", "set", "lo", "up", netns=host_ns)
        run("ip", "addr", "add", f"{addr}/{SUBNET_PREFIX}", "dev", "eth0", netns=host_ns)
        run("ip", "link", "set", "eth0", "up", netns=host_ns)
        # The metadata service is on the instance's link; everything else has no route.
        run("ip", "route", "add", f"{IMDS_ADDRESS}/32", "via", GATEWAY, netns=host_ns)
        return addr

    def down(self) -> None:
        for p in self.servers:
            if p.poll() is None:
                os.killpg(p.pid, signal.SIGTERM)
        for p in self.servers:
            try:
                p.wait(10)
            except subprocess.TimeoutExpired:
                os.killpg(p.pid, signal.SIGKILL)
        run("ip", "netns", "del", self.netns, check=False)


# --- one host ---------------------------------------------------------------------------------------
LOCAL_HOST_CLOUD_CFG = """\
# Test host only (tests/hosts/localhost.py): the user data comes from the NoCloud seed instead of the
# EC2 metadata service; root keeps the key the suite logs in with; networking is set up outside.
datasource_list: [NoCloud]
disable_root: false
network: {config: disabled}
"""


@dataclass
class Host:
    name: str  # also its ssh alias
    module: str
    user_data: bytes  # what EC2 hands the instance: the launch template's userData, base64-decoded
    vpc: Vpc
    lower: Path
    work: Path
    buckets: tuple[str, ...]
    s3_address: str = S3_ADDRESS
    address: str = ""
    loop: str = ""
    proc: subprocess.Popen | None = None

    @property
    def netns(self) -> str:
        return f"{self.vpc.tag}-{self.name}"

    @property
    def root(self) -> Path:
        return self.work / "root"

    @property
    def console(self) -> Path:
        return self.work / "console.log"

    def prepare(self, pubkey: str) -> None:
        for d in ("upper", "ovl", "root"):
            (self.work / d).mkdir(parents=True, exist_ok=True)
        run(
            "mount",
            "-t",
            "overlay",
            "overlay",
            "-o",
            f"lowerdir={self.lower},upperdir={self.work / 'upper'},workdir={self.work / 'ovl'}",
            str(self.root),
        )
        r = self.root
        (r / "etc/hostname").write_text(self.name + "\n")
        (r / "etc/cloud/cloud.cfg.d/99-pipeline-local-host.cfg").write_text(LOCAL_HOST_CLOUD_CFG)
        seed = r / "var/lib/cloud/seed/nocloud"
        seed.mkdir(parents=True, exist_ok=True)
        (seed / "user-data").write_bytes(self.user_data)  # cloud-init decompresses it
        (seed / "meta-data").write_text(f"instance-id: i-local-{self.name}\nlocal-hostname: {self.name}\n")
        region = self.vpc.region
        names = " ".join(f"{b}.s3.{region}.amazonaws.com" for b in self.buckets)
        (r / "etc/hosts").write_text(
            f"127.0.0.1 localhost\n127.0.1.1 {self.name}\n{self.s3_address} {names}\n"
        )
        bundle = r / "etc/ssl/certs/ca-certificates.crt"
        bundle.write_text(bundle.read_text() + self.vpc.ca.read_text())
        ssh = r / "root/.ssh"
        ssh.mkdir(mode=0o700, exist_ok=True)
        (ssh / "authorized_keys").write_text(pubkey)
        (ssh / "authorized_keys").chmod(0o600)
        volume = self.work / "data-volume.img"
        with volume.open("wb") as f:
            f.truncate(DATA_VOLUME_BYTES)
        self.loop = run("losetup", "--find", "--show", str(volume)).stdout.strip()
        self.address = self.vpc.attach(self.netns)

    def boot(self) -> None:
        cmd = [
            "systemd-nspawn",
            "--quiet",
            "-D",
            str(self.root),
            "--register=no",
            "--keep-unit",
            "--boot",
            f"--machine={self.name}",
            f"--network-namespace-path=/run/netns/{self.netns}",
            f"--bind={self.loop}:/dev/sdf",
        ]
        with self.console.open("wb") as log:
            self.proc = subprocess.Popen(
                cmd, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
            )

    def ssh_config(self, key: Path, known_hosts: Path) -> str:
        relay = f"ip netns exec {self.netns} {sys.executable} {HERE / 'relay.py'} %h %p"
        control = self.work.parent / f"cm-{self.name}"
        return (
            f"Host {self.name}\n  HostName {self.address}\n  User root\n  IdentityFile {key}\n"
            f"  IdentitiesOnly yes\n  StrictHostKeyChecking no\n  UserKnownHostsFile {known_hosts}\n"
            f"  ProxyCommand {relay}\n  ConnectTimeout 10\n  LogLevel ERROR\n"
            f"  ControlMaster auto\n  ControlPath {control}\n  ControlPersist 120\n"
        )

    def halt(self) -> None:
        """Ask the host's systemd to shut down (stop() waits for it)."""
        if self.proc is not None and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.halt()  # nspawn halts the container's systemd
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(10)
        run("umount", str(self.root), check=False)
        if self.loop:
            run("losetup", "-d", self.loop, check=False)
        run("ip", "netns", "del", self.netns, check=False)


def wait_for_bootstrap(host: Host, ssh_config: Path, deadline: float) -> str:
    """Wait until cloud-init has finished on the host (done or error); returns `cloud-init status`."""
    last = ""
    while time.monotonic() < deadline:
        if host.proc is not None and host.proc.poll() is not None:
            raise RuntimeError(f"{host.name}: nspawn exited {host.proc.returncode}; see {host.console}")
        out = subprocess.run(
            ["ssh", "-F", str(ssh_config), host.name, "cloud-init", "status", "--wait"],
            capture_output=True,
            text=True,
            timeout=max(5, deadline - time.monotonic()),
        )
        last = out.stdout + out.stderr
        if "status:" in out.stdout:
            return out.stdout.strip()
        time.sleep(1)
    raise RuntimeError(f"{host.name}: cloud-init did not finish in time; last: {last[-500:]}")
