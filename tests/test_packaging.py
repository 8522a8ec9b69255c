"""What is installed: one import name (everything under ``govarchive``, and nothing in the
user's working folder can stand in for our packages), the licence, the compose deployment."""

from __future__ import annotations

import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
REPO = ROOT


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
            shipped = path.suffix in {".py", ".html", ".css", ".mako", ".toml"}
            if not shipped or "__pycache__" in path.parts:
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


def test_the_declared_license_file_is_the_apache_license():
    project = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    assert project["license"] == "Apache-2.0"
    assert project["license-files"] == ["LICENSE"]
    text = (REPO / "LICENSE").read_text(encoding="utf-8")
    assert "Apache License\n                           Version 2.0, January 2004" in text
    assert "END OF TERMS AND CONDITIONS" in text


def test_compose_builds_the_image_once():
    compose = yaml.safe_load((REPO / "deploy" / "docker-compose.yml").read_text(encoding="utf-8"))
    services = compose["services"]
    builders = [name for name, service in services.items() if "build" in service]
    assert builders == ["govarchive"]
    image = services["govarchive"]["image"]
    users = [name for name, service in services.items()
             if service.get("image") == image and name != "govarchive"]
    assert users == ["replay"]
    for name in users:
        # Started after the build, and never looked for in a registry.
        assert services[name]["pull_policy"] == "never"
        assert "govarchive" in services[name]["depends_on"]
