"""The test site server as a subprocess: for benchmarks and tests that need a separate process."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]


class SiteProcess:
    """Runs ``python -m tests.site.server SITE --port 0`` and waits for its ``PORT`` line.

    ``requests`` reads the JSON request log the process writes to ``log_path``.
    """

    def __init__(self, site: str, log_path: Path, *, articles: int | None = None,
                 gzip_all: bool = False, prerender: bool = False, python: str = sys.executable):
        self.log_path = Path(log_path)
        self.args = [python, "-m", "tests.site.server", site, "--port", "0",
                     "--log", str(self.log_path)]
        if articles is not None:
            self.args += ["--articles", str(articles)]
        if gzip_all:
            self.args.append("--gzip-all")
        if prerender:
            self.args.append("--prerender")
        self.process: subprocess.Popen | None = None
        self.port: int | None = None

    def start(self) -> SiteProcess:
        self.process = subprocess.Popen(self.args, cwd=REPO_ROOT, stdout=subprocess.PIPE,
                                        stderr=subprocess.PIPE, text=True)
        first = self.process.stdout.readline()  # blocks until the server listens (or dies)
        if not first.startswith("PORT "):
            self.stop()
            raise RuntimeError(f"site server did not start: {first!r} "
                               f"{self.process.stderr.read()}")
        self.port = int(first.split()[1])
        return self

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=10)
        if self.process is not None:
            for stream in (self.process.stdout, self.process.stderr):
                stream.close()

    def __enter__(self) -> SiteProcess:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def url(self, path: str = "/") -> str:
        return self.base_url + (path if path.startswith("/") else "/" + path)

    @property
    def requests(self) -> list[dict]:
        if not self.log_path.exists():
            return []
        with self.log_path.open(encoding="utf-8") as lines:
            return [json.loads(line) for line in lines if line.strip()]
