"""``python3 tasks.py lab`` starts JupyterLab on the book without noise in its log."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import tasks  # noqa: E402


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_lab_command_leaves_out_the_course_only_nbgrader_tools():
    command = tasks.lab_command(["--no-browser"])
    assert command[1:3] == ["lab", "book"] and command[-1] == "--no-browser"
    setting = next(a for a in command if a.startswith("--ServerApp.jpserver_extensions="))
    for name in tasks.COURSE_ONLY_SERVER_EXTENSIONS:
        assert f'"nbgrader.server_extensions.{name}": False' in setting
    assert "validate_assignment" not in setting  # students keep the Validate button


def test_lab_starts_without_nbgrader_config_warnings(tmp_path):
    """Start the real server (as root it needs --allow-root, as tasks.py adds), wait
    until it runs, and read its log."""
    extra = ["--no-browser", f"--port={_free_port()}", "--ServerApp.token=test",
             f"--ServerApp.runtime_dir={tmp_path}"]
    if getattr(os, "geteuid", lambda: -1)() == 0:
        extra.append("--allow-root")
    log = tmp_path / "lab.log"
    with log.open("w") as out:
        server = subprocess.Popen(tasks.lab_command(extra), cwd=ROOT, stdout=out,
                                  stderr=subprocess.STDOUT, env=tasks.quiet_framework_env())
        try:
            deadline = time.monotonic() + 90
            while time.monotonic() < deadline and "is running at" not in log.read_text():
                assert server.poll() is None, log.read_text()
                time.sleep(0.5)
        finally:
            server.terminate()
            server.wait(timeout=30)
    text = log.read_text()
    assert "is running at" in text, text
    assert "validate_assignment | extension was successfully loaded" in text, text
    assert "nbgrader_config.py" not in text, text
