"""Fixtures of the scoring tests: small ready datasets."""

from __future__ import annotations

import pytest

from tests import factories
from tests.factories import varied_samples


@pytest.fixture
def make_dataset():
    def _make(*, owner, n: int = 20, name: str = "X", visibility: str = "public", tag: str = ""):
        return factories.make_dataset(owner=owner, name=name, records=varied_samples(n, tag=tag or name),
                                      visibility=visibility)

    return _make
