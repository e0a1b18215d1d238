"""docs/deployment.md's settings table names every environment variable the code reads, and
nothing it does not read: an operator can trust it as the whole list."""

from __future__ import annotations

import re
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
# env_str("NAME"...), env_int(...), env_bool(...), env_list(...), os.environ.get("NAME"),
# os.environ["NAME"], os.getenv("NAME"), env.get("NAME") (daisy.env.public_url's environ).
READ = re.compile(
    r"(?:env_(?:str|int|bool|list)|environ\.get|environ\.setdefault|getenv|env\.get)\(\s*"
    r"\"([A-Z][A-Z0-9_]+)\"|environ\[\s*\"([A-Z][A-Z0-9_]+)\"\s*\]"
)
# Read by the process plumbing, not settings an operator chooses.
NOT_SETTINGS = {"DJANGO_SETTINGS_MODULE", "PYTHONPATH"}


def read_by_the_code() -> set[str]:
    names: set[str] = set()
    for path in (REPO / "daisy").rglob("*.py"):
        if "tests" in path.relative_to(REPO).parts:
            continue
        for match in READ.finditer(path.read_text()):
            names.add(match.group(1) or match.group(2))
    return names - NOT_SETTINGS


def in_the_guide() -> set[str]:
    text = (REPO / "docs" / "deployment.md").read_text()
    section = text.split("\n## Settings\n", 1)[1].split("\n## ", 1)[0]
    rows = [line for line in section.splitlines() if line.startswith("| `")]
    return {name for row in rows for name in re.findall(r"`([A-Z][A-Z0-9_]+)`", row.split("|")[1])}


def test_every_variable_the_code_reads_is_in_the_guide_and_no_other():
    code, guide = read_by_the_code(), in_the_guide()
    assert len(code) > 40  # the pattern still finds the reads
    assert code - guide == set(), "read by the code: add it to docs/deployment.md's Settings table"
    assert guide - code == set(), "in docs/deployment.md's table but never read"


def test_every_variable_is_described_in_the_configuration_reference():
    text = (REPO / "docs" / "configuration.md").read_text()
    missing = {name for name in read_by_the_code() if f"`{name}`" not in text}
    assert missing == set(), "not in docs/configuration.md"
