"""Shared fixtures: the demo RedditESS folder built by the real builder, and the real-data folder."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

SHARED_DATA = Path(
    os.environ.get("REDDITESS_SHARED_DATA", Path(__file__).resolve().parents[2] / "shared" / "data")
)
DEMO_KEY = b"redditess-test-key-not-secret"
DEMO_VERSION = "0.1.0-test"  # the `version` of the demo build (its manifest and run records carry it)


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """`../shared/data` (real Reddit dumps); tests using it skip on a fresh clone without it."""
    if not SHARED_DATA.is_dir():
        pytest.skip(f"real Reddit data not found at {SHARED_DATA}")
    return SHARED_DATA


@pytest.fixture(scope="session")
def demo_raw(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A seeded synthetic Pushshift-style dump (the same generator `make demo` uses)."""
    from dataset_builder.synthetic import write_sample

    out = tmp_path_factory.mktemp("demo-raw")
    write_sample(out, seed=0)
    return out


@pytest.fixture(scope="session")
def demo_dataset(demo_raw: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A RedditESS folder built by the real builder from the synthetic sample; its name is `redditess`."""
    from dataset_builder.config import BuildConfig
    from dataset_builder.pipeline import build

    out = tmp_path_factory.mktemp("demo-build") / "redditess"
    build(BuildConfig(inputs=[demo_raw], out=out, version=DEMO_VERSION, seed=0), key=DEMO_KEY)
    return out


@pytest.fixture(scope="session")
def spark():
    """A Spark `local[2]` session (the builder's Spark engine). Skips when pyspark or Java is missing,
    except under CI, where `.ci/run` installs both and a missing one is a failure."""
    from dataset_builder import spark_session

    try:
        spark_session.check_available()
    except spark_session.SparkUnavailable as exc:
        if os.environ.get("CI"):
            raise
        pytest.skip(str(exc))
    session = spark_session.start("local[2]", app_name="redditess-tests")
    yield session
    session.stop()
