"""Pure helpers of the local target (no Pulumi): the Docker network every container joins, the
`docker run` line of a one-shot step, and the digest that ties a step to its script."""

from __future__ import annotations

import hashlib
import shlex
from collections.abc import Sequence

NETWORK = "pipeline-local"


def docker_run(image: str, shell: str, *, network: str = NETWORK, env_names: Sequence[str] = ()) -> str:
    """`docker run` of a one-shot step: the script on standard input, `shell` run by sh -ec, variables
    passed by name only (docker takes their values from its own environment, so no value is on a
    command line or in the state's command text). Exits with the step's status."""
    argv = ["docker", "run", "--rm", "-i", "--network", network]
    for name in env_names:
        if not name.isidentifier():
            raise ValueError(f"{name!r} is not an environment variable name")
        argv += ["-e", name]
    argv += ["--entrypoint", "sh", image, "-ec", shell]
    return shlex.join(argv)


def digest(text: str) -> str:
    """Trigger of a one-shot step: it runs again when its script changes."""
    return hashlib.sha256(text.encode()).hexdigest()
