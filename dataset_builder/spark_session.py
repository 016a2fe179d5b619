"""A Spark session for the builder's Spark engine (`build --engine spark`), with a clear error when the
optional `spark` extra (pyspark) or Java is missing.

pyspark is optional (`pip install .[spark]`); Spark needs a Java runtime (17 or newer: Debian's
`openjdk-17-jre-headless`). Python workers run the interpreter of this process (`PYSPARK_PYTHON`), so they
import the same packages (pyarrow, the kit) as the driver.
"""

from __future__ import annotations

import logging
import os
import shutil
import sys
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

logger = logging.getLogger(__name__)

DEFAULT_MASTER = "local[2]"


class SparkUnavailable(RuntimeError):
    """pyspark or Java is missing: the message says what to install."""


def check_available() -> None:
    """Raise SparkUnavailable naming what is missing (the `spark` extra, or a Java runtime)."""
    try:
        import pyspark  # noqa: F401
    except ImportError as exc:
        raise SparkUnavailable(
            "--engine spark needs pyspark: install the kit's spark extra (pip install '.[spark]')"
        ) from exc
    java_home = os.environ.get("JAVA_HOME")
    java = Path(java_home) / "bin" / "java" if java_home else shutil.which("java")
    if not java or not Path(java).exists():
        raise SparkUnavailable(
            "--engine spark needs a Java runtime (17 or newer) on PATH or in $JAVA_HOME; on Debian/Ubuntu: "
            "apt-get install openjdk-17-jre-headless"
        )


def start(
    master: str = DEFAULT_MASTER,
    app_name: str = "redditess-build",
    local_dir: Path | None = None,
    conf: dict[str, str] | None = None,
) -> SparkSession:
    """A SparkSession on `master` (`local[N]`, `spark://HOST:PORT`, `yarn`, ...). Python workers use this
    interpreter; the UI is off; shuffle and spill files go to `local_dir` when given (the build's private
    work folder). Raises SparkUnavailable when pyspark or Java is missing."""
    check_available()
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    os.environ.setdefault("PYSPARK_DRIVER_PYTHON", sys.executable)
    from pyspark.sql import SparkSession

    builder = (
        SparkSession.builder.master(master)
        .appName(app_name)
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.sql.ansi.enabled", "false")
        .config("spark.sql.execution.arrow.pyspark.enabled", "true")
        .config("spark.driver.extraJavaOptions", "-Dlog4j2.level=error")
    )
    if local_dir is not None:
        builder = builder.config("spark.local.dir", str(local_dir))
    for key, value in (conf or {}).items():
        builder = builder.config(key, value)
    session = builder.getOrCreate()
    session.sparkContext.setLogLevel("ERROR")
    logger.info("spark session on %s (Spark %s)", master, session.version)
    return session
