"""Runs the lit/FileCheck suite inside pytest, so one test command runs both and pytest's
closing line reports lit's result too."""

import os
import subprocess
import sys
from pathlib import Path

FILECHECK_DIR = Path(__file__).parent / "filecheck"


def test_lit_suite_passes():
    bin_dir = Path(sys.executable).parent
    env = dict(os.environ, PATH=f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}")
    result = subprocess.run(
        [str(bin_dir / "lit"), "-q", "-j", str(os.cpu_count() or 2), str(FILECHECK_DIR)],
        capture_output=True,
        text=True,
        env=env,
        timeout=1200,
    )
    assert result.returncode == 0, f"lit failed:\n{result.stdout[-20000:]}\n{result.stderr[-5000:]}"
