"""Project-wide test settings: hypothesis runs derandomized (seeded) and without deadlines,
so CI on a loaded 2-core machine is reproducible and never flaky on timing."""

from hypothesis import HealthCheck, settings

settings.register_profile(
    "treadle",
    derandomize=True,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
settings.load_profile("treadle")
