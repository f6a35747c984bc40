"""DRAM tests never touch the user's sweep cache: every session gets its own directory."""

import pytest


@pytest.fixture(autouse=True, scope="session")
def _dram_cache(tmp_path_factory):
    mp = pytest.MonkeyPatch()
    mp.setenv("OPSRL_DRAM_CACHE", str(tmp_path_factory.mktemp("dram_cache")))
    yield
    mp.undo()
