"""The local (Docker) target: one `DockerService` component per service (component.py)."""
