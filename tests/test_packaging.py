"""Files that ship with govarchive besides its code: the licence and the compose deployment."""

from __future__ import annotations

import tomllib
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[1]


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
