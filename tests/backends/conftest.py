import pytest


@pytest.fixture(autouse=True, scope="session")
def _private_cache(tmp_path_factory):
    """Build kernels into a per-run cache so tests never depend on or pollute ~/.cache."""
    mp = pytest.MonkeyPatch()
    mp.setenv("TREADLE_CACHE_DIR", str(tmp_path_factory.mktemp("treadle-cache")))
    yield
    mp.undo()
