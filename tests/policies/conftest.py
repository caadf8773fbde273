from __future__ import annotations

import pytest

from tests.policies.analyzer import Analyzer


@pytest.fixture(scope="session")
def analyzer():
    a = Analyzer()
    yield a
    a.close()
