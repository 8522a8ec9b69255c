"""pywb's ``wayback`` as ``govarchive replay serve`` starts it: our config, read from the
archive root, never the missing-file message nor a config.yaml in the user's folder."""

from __future__ import annotations

import os
import socket
import subprocess
import time

import pytest
import yaml

from govarchive.warc.replay import wayback_command


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_command_serves_the_root_with_our_config(tmp_path):
    root = tmp_path / "archive"
    command = wayback_command(root, "127.0.0.1", 8099)
    assert os.path.basename(command[0]) == "wayback"
    assert command[1:] == ["--bind", "127.0.0.1", "--port", "8099", "--directory", str(root)]
    config = yaml.safe_load((root / "config.yaml").read_text(encoding="utf-8"))
    assert config == {"collections_root": "collections", "framed_replay": True, "debug": False}


def test_a_config_of_the_users_own_is_kept(tmp_path):
    (tmp_path / "config.yaml").write_text("framed_replay: false\n", encoding="utf-8")
    wayback_command(tmp_path, "127.0.0.1", 8099)
    assert (tmp_path / "config.yaml").read_text(encoding="utf-8") == "framed_replay: false\n"


@pytest.mark.slow
def test_wayback_starts_without_config_messages(tmp_path):
    root = tmp_path / "archive"
    (root / "collections" / "govarchive" / "archive").mkdir(parents=True)
    (root / "collections" / "govarchive" / "indexes").mkdir()
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    # A stray, broken pywb config in the folder the user starts from must not be read.
    (elsewhere / "config.yaml").write_text("collections: [unclosed\n", encoding="utf-8")
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYWB_")}
    process = subprocess.Popen(
        wayback_command(root, "127.0.0.1", port), cwd=elsewhere, env=env,
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except ConnectionRefusedError:
                assert process.poll() is None, process.stdout.read()
                time.sleep(0.1)
        else:
            raise AssertionError("pywb never answered")
    finally:
        process.terminate()
        output, _ = process.communicate(timeout=30)
    assert "Starting Gevent Server" in output  # what pywb says once it is ready
    assert "config.yaml" not in output and "No such file" not in output, output
    assert "Traceback" not in output, output
