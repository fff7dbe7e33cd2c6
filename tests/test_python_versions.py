"""The Python versions the project claims (pyproject, README, ruff) are ones every pinned package installs on.

Each pin's own Requires-Python comes from the installed distribution's METADATA, so a pin moved to a
release that drops a Python version fails here, not on a user's machine.
"""

import re
import tomllib
from importlib import metadata
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet

ROOT = Path(__file__).resolve().parents[1]
MINORS = [f"3.{minor}" for minor in range(8, 20)]


def pyproject() -> dict:
    return tomllib.loads((ROOT / "pyproject.toml").read_text())


def claimed() -> list[str]:
    """The Python versions pyproject's requires-python admits."""
    allowed = SpecifierSet(pyproject()["project"]["requires-python"])
    return [v for v in MINORS if allowed.contains(f"{v}.0")]


def pins() -> list[Requirement]:
    """Every `name==version` line of requirements.txt and requirements-dev.txt."""
    lines = [line.split("#")[0].strip() for name in ("requirements.txt", "requirements-dev.txt")
             for line in (ROOT / name).read_text().splitlines()]
    return [Requirement(line) for line in lines if line and not line.startswith("-r")]


def test_the_claim_is_a_contiguous_range() -> None:
    versions = claimed()
    assert versions, "requires-python admits no Python version"
    assert versions == MINORS[MINORS.index(versions[0]) : MINORS.index(versions[-1]) + 1]


@pytest.mark.parametrize("pin", pins(), ids=str)
def test_every_pin_installs_on_every_claimed_python(pin: Requirement) -> None:
    (version,) = [spec.version for spec in pin.specifier if spec.operator == "=="]
    installed = metadata.distribution(pin.name)
    assert installed.version == version, f"{pin.name} {installed.version} is installed, not the pinned {version}"
    requires = SpecifierSet(installed.metadata.get("Requires-Python") or "")
    refused = [v for v in claimed() if not requires.contains(f"{v}.0")]
    assert not refused, f"{pin} requires Python {requires}: not {', '.join(refused)}"


def test_readme_and_ruff_say_the_same_range() -> None:
    versions = claimed()
    readme = (ROOT / "README.md").read_text()
    assert f"Python {versions[0]} to {versions[-1]}" in readme
    assert not re.search(r"Python 3\.\d+ to 3\.\d+", readme.replace(f"Python {versions[0]} to {versions[-1]}", ""))
    assert pyproject()["tool"]["ruff"]["target-version"] == "py" + versions[0].replace(".", "")
