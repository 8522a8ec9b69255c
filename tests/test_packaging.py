"""One import name: installed, everything is under ``govarchive``, and nothing in the user's
working folder can stand in for our packages."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
FOLDERS = {"crawler": "crawler", "scheduler": "scheduler", "storage": "storage", "warc": "warc"}


def _python(*args: str, cwd: Path, timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, *args], cwd=cwd, capture_output=True, text=True,
                          timeout=timeout)


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    done = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", "-w", str(out), str(ROOT)],
        capture_output=True, text=True, timeout=600,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    (found,) = out.glob("govarchive-*.whl")
    return found


@pytest.mark.slow
def test_the_wheel_installs_only_govarchive(wheel, tmp_path):
    target = tmp_path / "site-packages"
    done = subprocess.run(
        [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--target", str(target),
         str(wheel)], capture_output=True, text=True, timeout=300,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    top = sorted(p.name for p in target.iterdir() if p.name != "bin")
    assert top == ["govarchive", wheel.name.split("-py3")[0] + ".dist-info"]
    for folder in ("crawler", "scheduler", "storage", "warc"):
        assert (target / "govarchive" / folder / "__init__.py").is_file()
    # Imports from the installed copy alone, not from this checkout.
    probe = _python("-I", "-c", "import sys; sys.path.insert(0, sys.argv[1]); "
                    "import govarchive.storage, govarchive.warc; print(govarchive.storage.__file__)",
                    str(target), cwd=tmp_path)
    assert probe.returncode == 0, probe.stderr
    assert probe.stdout.strip().startswith(str(target))


@pytest.mark.slow
def test_the_wheel_holds_every_module_of_the_checkout(wheel):
    names = set(zipfile.ZipFile(wheel).namelist())
    missing = []
    for folder in ("govarchive", "crawler", "scheduler", "storage", "warc"):
        for path in (ROOT / folder).rglob("*"):
            if path.suffix not in {".py", ".html", ".css", ".mako", ".toml"} or "__pycache__" in path.parts:
                continue
            relative = path.relative_to(ROOT).as_posix()
            installed = relative if folder == "govarchive" else f"govarchive/{relative}"
            if installed not in names:
                missing.append(installed)
    assert missing == []


def test_the_cli_ignores_modules_named_like_ours_in_the_working_folder(tmp_path):
    for name in ("crawler", "scheduler", "storage", "warc"):
        (tmp_path / f"{name}.py").write_text(f"raise SystemExit('imported the wrong {name}')\n")
    (tmp_path / "govarchive.toml").write_text(
        '[storage]\nurl = "sqlite:///data/govarchive.db"\n'
        '[[sources]]\nname = "demo"\nstart_urls = ["https://www.gov.cn/lianbo/difang/"]\n'
    )
    for command in (["init"], ["runs"], ["sources"]):
        done = _python("-m", "govarchive", "--config", "govarchive.toml", *command, cwd=tmp_path)
        assert done.returncode == 0, done.stderr
        assert "wrong" not in done.stdout + done.stderr
