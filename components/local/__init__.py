"""The local (Docker) target: `DockerService` per long-running service and `DockerJob` per one-shot step
(component.py), `Connector` per Kafka Connect connector (connector.py, over the pure REST client in
connect_rest.py), and the pure helpers (services.py, health.py, artifacts.py)."""
