"""Alertmanager routing and inhibition (seed 003 Monitoring and Alerting > Alert Routing), proven by
amtool (check-config, config routes test) and by a real Alertmanager holding posted alerts."""

from __future__ import annotations

import json
import re
import socket
import subprocess
import time
import urllib.request
from pathlib import Path

import pytest
import yaml

from components.observability import alertmanager, rules
from components.observability.alertmanager import render_config
from components.observability.settings import AlertingSettings
from tests.support.engines import engine

# seed 003 Alert Routing > Routing Rules: severity -> (receiver, repeat_interval)
SEED_ROUTES = {
    "critical": ("pagerduty-critical", "5m"),
    "high": ("pagerduty-high", "15m"),
    "medium": ("slack-ops", "1h"),
    "low": ("email-ops", "4h"),
    "info": ("slack-info", "24h"),
}
SECRET_FILES = ("pagerduty-critical-key", "pagerduty-high-key", "slack-webhook-url", "smtp-password",
                "deadmans-switch-url")


@pytest.fixture()
def secrets_dir(tmp_path: Path) -> Path:
    d = tmp_path / "secrets"
    d.mkdir()
    for name in SECRET_FILES:
        (d / name).write_text("test-value-not-a-key\n")
    return d


def for_engine(text: str) -> str:
    """The rendered config as the installed Alertmanager can load it. The pinned image is 0.28.1;
    the engine installed here may be Debian's 0.25, which predates the webhook receiver's `url_file`
    (Alertmanager 0.26): for it, and only then, the dead man's switch webhook reads its URL inline
    from the same file. Every other field is tested as rendered."""
    version = subprocess.run([engine("amtool"), "--version"], capture_output=True, text=True)
    found = re.search(r"version (\d+)\.(\d+)", version.stdout + version.stderr)
    if found is None or (int(found.group(1)), int(found.group(2))) >= (0, 26):
        return text
    doc = yaml.safe_load(text)
    for receiver in doc["receivers"]:
        for hook in receiver.get("webhook_configs", []):
            path = Path(hook.pop("url_file"))
            # a rendered config's mounted file does not exist here: a stand-in URL of the same shape
            hook["url"] = path.read_text().strip() if path.is_file() else "https://switch.invalid/ping"
    return yaml.safe_dump(doc, sort_keys=False)


@pytest.fixture()
def config_file(tmp_path: Path, secrets_dir: Path) -> Path:
    path = tmp_path / "alertmanager.yml"
    (secrets_dir / "deadmans-switch-url").write_text("http://127.0.0.1:9/ping\n")
    path.write_text(for_engine(render_config(str(secrets_dir))))
    return path


def test_routes_repeat_intervals_match_the_seed():
    doc = yaml.safe_load(render_config("/s"))
    got = {r["matchers"][0]: (r["receiver"], r.get("repeat_interval")) for r in doc["route"]["routes"]}
    for severity, expected in SEED_ROUTES.items():
        assert got[f'severity="{severity}"'] == expected


def test_no_secret_in_the_config_only_file_paths():
    text = render_config("/etc/alertmanager/secrets/x")
    doc = yaml.safe_load(text)
    pd = [c for r in doc["receivers"] for c in r.get("pagerduty_configs", [])]
    assert {c["routing_key_file"] for c in pd} == {
        "/etc/alertmanager/secrets/x/pagerduty-critical-key",
        "/etc/alertmanager/secrets/x/pagerduty-high-key",
    }
    assert doc["global"]["slack_api_url_file"].endswith("/slack-webhook-url")
    assert doc["global"]["smtp_auth_password_file"].endswith("/smtp-password")
    for field in (
        "service_key",
        "routing_key",
        "api_url",
        "auth_password",
        "smtp_auth_password",
        "slack_api_url",
    ):
        assert f"{field}:" not in text.replace(f"{field}_file:", "")


def test_receivers_use_the_alerting_settings():
    a = AlertingSettings(slack_channel_ops="#ops-x", email_ops="team@corp.example.org")
    doc = yaml.safe_load(render_config("/s", a))
    by_name = {r["name"]: r for r in doc["receivers"]}
    assert by_name["slack-ops"]["slack_configs"][0]["channel"] == "#ops-x"
    assert by_name["email-ops"]["email_configs"][0]["to"] == "team@corp.example.org"


def test_seed_inhibitions_present():
    doc = yaml.safe_load(render_config("/s"))
    rules_ = doc["inhibit_rules"]
    # seed 003 Inhibition Rules: stopped ingestion/delivery mutes the module's alerts on that instance
    assert {
        "source_matchers": ['alertname="alpha_ingestion_stopped"'],
        "target_matchers": ['module="alpha"'],
        "equal": ["instance"],
    } in rules_
    assert {
        "source_matchers": ['alertname="gamma_delivery_stopped"'],
        "target_matchers": ['module="gamma"'],
        "equal": ["instance"],
    } in rules_


@pytest.mark.engine
def test_amtool_check_config_and_every_severity_route(config_file: Path):
    amtool = engine("amtool")
    check = subprocess.run([amtool, "check-config", str(config_file)], capture_output=True, text=True)
    assert check.returncode == 0, check.stdout + check.stderr
    cases = {f"severity={s}": receiver for s, (receiver, _) in SEED_ROUTES.items()}
    cases["severity=warning"] = "slack-ops"  # the chart's own rules: default receiver
    # kube-prometheus-stack's Watchdog (severity none) pings the dead man's switch
    cases["alertname=Watchdog severity=none"] = "deadmans-switch"
    for labels, receiver in cases.items():
        run = subprocess.run(
            [
                amtool,
                "config",
                "routes",
                "test",
                f"--config.file={config_file}",
                f"--verify.receivers={receiver}",
                *labels.split(),
                "module=alpha",
            ],
            capture_output=True,
            text=True,
        )
        assert run.returncode == 0, (labels, run.stdout + run.stderr)


def test_local_stack_config_with_its_secret_files(plan_of):
    # The local Alertmanager container gets the config and every key file the config reads.
    [container] = [
        r for r in plan_of("local").of_type("docker:index/container:Container") if r.name == "alertmanager"
    ]
    uploads = {u["file"]: u["content"] for u in container.inputs["uploads"]}
    config = uploads["/etc/alertmanager/alertmanager.yml"]
    for name in SECRET_FILES:
        path = f"/etc/alertmanager/secrets/{name}"
        assert path in config and path in uploads


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.engine
def test_inhibitions_with_a_real_alertmanager(tmp_path: Path, config_file: Path):
    binary = engine("prometheus-alertmanager")
    amtool = engine("amtool")
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    proc = subprocess.Popen(
        [
            binary,
            f"--config.file={config_file}",
            f"--storage.path={tmp_path / 'data'}",
            f"--web.listen-address=127.0.0.1:{port}",
            "--cluster.listen-address=",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        for _ in range(100):
            try:
                urllib.request.urlopen(f"{url}/-/ready", timeout=1)
                break
            except OSError:
                time.sleep(0.1)
        expected: dict[tuple[str, str], bool] = {}

        def add(key: str, labels: dict[str, str], inhibited: bool) -> None:
            labels = {**labels, "case": key}
            subprocess.run(
                [
                    amtool,
                    f"--alertmanager.url={url}",
                    "alert",
                    "add",
                    *[f"{k}={v}" for k, v in labels.items()],
                ],
                check=True,
                capture_output=True,
            )
            expected[(key, labels["alertname"] + labels.get("variant", ""))] = inhibited

        # seed 003: the source mutes every alert of its module on the same instance, not other instances
        for n, (source, module, _) in enumerate(alertmanager.SEED_INHIBITIONS):
            key = f"seed{n}"
            add(key, {"alertname": source, "severity": "critical", "module": module, "instance": key}, False)
            add(key, {"alertname": "x_target", "severity": "high", "module": module, "instance": key}, True)
            add(
                key,
                {
                    "alertname": "x_target",
                    "severity": "high",
                    "module": module,
                    "instance": key + "-other",
                    "variant": "-other",
                },
                False,
            )
        # rule data: the more severe twin mutes the lesser one when the `equal` labels agree
        for n, (source, target, equal) in enumerate(rules.inhibit_pairs()):
            key = f"pair{n}"
            same = {label: key for label in equal}
            add(key, {"alertname": source, "severity": "high", "module": "test", **same}, False)
            add(key, {"alertname": target, "severity": "medium", "module": "test", **same}, True)
            if equal:
                add(
                    key,
                    {
                        "alertname": target,
                        "severity": "medium",
                        "module": "test",
                        "variant": "-other",
                        **{label: key + "-other" for label in equal},
                    },
                    False,
                )
        query = subprocess.run(
            [amtool, f"--alertmanager.url={url}", "alert", "query", "-a", "-i", "-o", "json"],
            capture_output=True,
            text=True,
            check=True,
        )
        got = {
            (a["labels"]["case"], a["labels"]["alertname"] + a["labels"].get("variant", "")): bool(
                a["status"]["inhibitedBy"]
            )
            for a in json.loads(query.stdout)
        }
        assert got == expected
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def test_watchdog_goes_to_the_dead_mans_switch_every_minute():
    doc = yaml.safe_load(render_config("/s"))
    (route,) = [r for r in doc["route"]["routes"] if r["matchers"] == ['alertname="Watchdog"']]
    assert doc["route"]["routes"][0] is route  # before the severity routes (its severity is "none")
    assert route["receiver"] == "deadmans-switch"
    assert route["repeat_interval"] == "1m" and route["group_wait"] == "0s"
    (receiver,) = [r for r in doc["receivers"] if r["name"] == "deadmans-switch"]
    assert receiver["webhook_configs"] == [{"url_file": "/s/deadmans-switch-url", "send_resolved": False}]
    assert "null" not in {r["receiver"] for r in doc["route"]["routes"]}


@pytest.mark.engine
def test_amtool_fails_a_route_test_against_the_wrong_receiver(config_file: Path):
    # the route test above can fail: Watchdog is not routed to the old null receiver any more
    amtool = engine("amtool")
    run = subprocess.run(
        [amtool, "config", "routes", "test", f"--config.file={config_file}", "--verify.receivers=null",
         "alertname=Watchdog", "severity=none"],
        capture_output=True, text=True,
    )
    assert run.returncode != 0


@pytest.mark.engine
def test_a_real_alertmanager_pings_the_switch_with_the_watchdog(tmp_path: Path, secrets_dir: Path):
    import http.server
    import threading

    pings: list[dict] = []

    class Switch(http.server.BaseHTTPRequestHandler):
        def log_message(self, *args):
            pass

        def do_POST(self):  # noqa: N802
            pings.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
            self.send_response(200)
            self.end_headers()

    switch = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Switch)
    threading.Thread(target=switch.serve_forever, daemon=True).start()
    (secrets_dir / "deadmans-switch-url").write_text(f"http://127.0.0.1:{switch.server_address[1]}/ping")
    config = tmp_path / "am.yml"
    config.write_text(for_engine(render_config(str(secrets_dir))))
    binary, amtool, port = engine("prometheus-alertmanager"), engine("amtool"), _free_port()
    proc = subprocess.Popen(
        [binary, f"--config.file={config}", f"--storage.path={tmp_path / 'data'}",
         f"--web.listen-address=127.0.0.1:{port}", "--cluster.listen-address="],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    try:
        for _ in range(100):
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/-/ready", timeout=1)
                break
            except OSError:
                time.sleep(0.1)
        subprocess.run([amtool, f"--alertmanager.url=http://127.0.0.1:{port}", "alert", "add",
                        "alertname=Watchdog", "severity=none"], check=True, capture_output=True)
        for _ in range(100):
            if pings:
                break
            time.sleep(0.1)
        assert pings and pings[0]["receiver"] == "deadmans-switch"
        assert pings[0]["alerts"][0]["labels"]["alertname"] == "Watchdog"
    finally:
        proc.terminate()
        proc.wait(timeout=10)
        switch.shutdown()
