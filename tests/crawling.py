"""Running govarchive as a user does, for end-to-end tests.

Scrapy's reactor runs once per process, so every crawl runs ``python -m govarchive`` in a
subprocess; the config file is written by the test into its own tmp folder.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from click.testing import CliRunner, Result

REPO = Path(__file__).resolve().parents[1]


def toml_value(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    # JSON string escapes are valid TOML basic-string escapes.
    return json.dumps(str(value), ensure_ascii=False)


@dataclass
class Project:
    """A govarchive config and data folder in a test's tmp_path."""

    root: Path
    config: Path
    storage_url: str

    @property
    def archive_dir(self) -> Path:
        return self.root / "data" / "archive" / "collections" / "govarchive" / "archive"

    def warc_files(self) -> list[Path]:
        return sorted(self.archive_dir.glob("*.warc.gz"))

    def _env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("GOVARCHIVE_")}
        # Proxies would send loopback test traffic elsewhere.
        for name in ("http_proxy", "https_proxy", "HTTP_PROXY", "HTTPS_PROXY", "all_proxy"):
            env.pop(name, None)
        env["PYTHONPATH"] = str(REPO) + os.pathsep + env.get("PYTHONPATH", "")
        return env

    def run(self, *args: str, timeout: float = 180) -> subprocess.CompletedProcess:
        return subprocess.run(
            [sys.executable, "-m", "govarchive", "--config", str(self.config), *args],
            capture_output=True, text=True, timeout=timeout, env=self._env(), cwd=self.root,
            check=False,
        )

    def start(self, *args: str) -> subprocess.Popen:
        """``govarchive ARGS`` started in the background (stdout and stderr piped, as text)."""
        return subprocess.Popen(
            [sys.executable, "-m", "govarchive", "--config", str(self.config), *args],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=self._env(),
            cwd=self.root,
        )

    def crawl(self, *args: str) -> subprocess.CompletedProcess:
        return self.run("crawl", *args)

    def export(self) -> list[dict]:
        result = self.run("export")
        assert result.returncode == 0, result.stderr
        return [json.loads(line) for line in result.stdout.splitlines() if line.strip()]

    def runs(self) -> list[dict]:
        result = self.run("runs", "--json")
        assert result.returncode == 0, result.stderr
        return json.loads(result.stdout)

    def rebuild_from_archive(self) -> subprocess.CompletedProcess:
        """Delete the SQLite database, ``init`` a new one and ``replay reparse`` the archive
        into it; the reparse's result (its summary is on stderr)."""
        for leftover in (self.root / "data").glob("govarchive.db*"):
            leftover.unlink()
        result = self.run("init")
        assert result.returncode == 0, result.stderr
        result = self.run("replay", "reparse")
        assert result.returncode == 0, result.stderr
        return result

    def sections(self) -> dict[str, str | None]:
        """Each listed article's section (the list that listed it), as the database holds it."""
        import sqlalchemy as sa

        engine = sa.create_engine(f"sqlite:///{self.root / 'data' / 'govarchive.db'}")
        try:
            with engine.connect() as connection:
                rows = connection.execute(sa.text(
                    "SELECT url, section_url FROM articles WHERE delisted_at IS NULL")).all()
        finally:
            engine.dispose()
        return dict(rows)


def invoke(config: Path, *args: str, catch_exceptions: bool = True) -> Result:
    """``govarchive --config CONFIG ARGS`` in process (click's CliRunner), with the
    environment's GOVARCHIVE_CONFIG and GOVARCHIVE_STORAGE__URL cleared."""
    from govarchive.cli import cli

    return CliRunner().invoke(cli, ["--config", str(config), *args],
                              env={"GOVARCHIVE_CONFIG": None, "GOVARCHIVE_STORAGE__URL": None},
                              catch_exceptions=catch_exceptions)


def make_project(tmp_path: Path, sources: list[dict], *, storage_url: str | None = None,
                 crawl: dict | None = None, init: bool = True) -> Project:
    """Write govarchive.toml for ``sources`` (dicts of source keys) and run ``init``."""
    crawl_settings = {"delay": 0, "autothrottle": False, "concurrency_per_host": 8,
                      "allow_private_addresses": True, "timeout": 10, "retries": 0}
    crawl_settings.update(crawl or {})
    url = storage_url or "sqlite:///data/govarchive.db"
    lines = ["[storage]", f"url = {toml_value(url)}", "", "[archive]",
             'dir = "data/archive"', "", "[crawl]"]
    lines += [f"{k} = {toml_value(v)}" for k, v in crawl_settings.items()]
    for source in sources:
        lines += ["", "[[sources]]"]
        tables = {k: v for k, v in source.items() if isinstance(v, dict)}  # rules, list_api
        lines += [f"{k} = {toml_value(v)}" for k, v in source.items() if k not in tables]
        for table, values in tables.items():
            if values:
                lines += [f"[sources.{table}]"] + [f"{k} = {toml_value(v)}"
                                                   for k, v in values.items()]
    config = tmp_path / "govarchive.toml"
    config.write_text("\n".join(lines) + "\n", encoding="utf-8")
    project = Project(tmp_path, config, url)
    if init:
        result = project.run("init")
        assert result.returncode == 0, result.stderr
    return project


def site_source(name: str, server, **extra) -> dict:
    """A source entry for one of the test sites (tests.site), starting at its section page."""
    source = {"name": name, "start_urls": [server.url(server.expected["start"])],
              "schedule": "every 30m", "max_list_pages": 10}
    source.update(extra)
    return source
