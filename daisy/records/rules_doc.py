"""The screening tables of docs/clinical-rules.md, written from the shipped data
(daisy.records.defaults), so the page says exactly what Daisy ships: a test compares them
(daisy/records/tests/test_rules_doc.py). After changing the shipped table, rewrite the page's
generated part with:

    python -m daisy.records.rules_doc
"""

from __future__ import annotations

import re
import sys
from pathlib import Path
from typing import Any

from daisy.records import defaults

DOC = Path(__file__).resolve().parents[2] / "docs" / "clinical-rules.md"
START = "<!-- screening-table: generated from daisy/records/defaults.py; do not edit by hand -->"
END = "<!-- screening-table: end -->"

OUTCOME_WORDS = {
    "hard_stop": "Hard stop",
    "clinician_review": "Clinician review",
    "deferred": "Deferred",
    "caution": "Caution",
    "zone_excluded": "Zone excluded",
    "no_numbing": "Treat without numbing",
}
QUESTIONNAIRE_NAMES = {slug: name for slug, name, _kind in defaults.QUESTIONNAIRES}


def _row_key(rule: dict[str, Any]) -> tuple[int, str, str]:
    first = rule["row"].split(",")[0].strip()
    digits = re.sub(r"\D", "", first)
    return (int(digits) if first.isdigit() else 1000 + int(digits or 0), first, rule["key"])


def _asked(question: dict[str, Any]) -> str:
    """The moments a question is asked (the consultation asks every one)."""
    where = "Pre-screen, consultation" if question["is_online"] else "Consultation"
    where += ", re-screen" if question["is_rescreen"] else " only"
    if question["asks_when"]:
        where += "; with the date"
    return where


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ").strip()


def table(slug: str) -> str:
    questions = {q["key"]: q for q in defaults.QUESTIONS}
    rules = sorted((r for r in defaults.RULES if slug in r["questionnaires"]), key=_row_key)
    lines = [
        '| Row | Question | Asked | A "yes" means | Wait | Source |',
        "|---|---|---|---|---|---|",
    ]
    for rule in rules:
        question = questions[rule["question"]]
        means = f"{OUTCOME_WORDS[rule['outcome']]}: {rule['condition']}"
        if rule["modification"]:
            means += f". {rule['modification']}"
        wait = f"{rule['wait_days']} days" if rule["wait_days"] else ""
        lines.append(
            "| "
            + " | ".join(
                _cell(x)
                for x in (
                    rule["row"],
                    question["text"],
                    _asked(question),
                    means,
                    wait,
                    rule["source"],
                )
            )
            + " |"
        )
    return "\n".join(lines)


def generated() -> str:
    """The generated part of the page, between its markers."""
    parts = [START, ""]
    for slug, _name, _kind in defaults.QUESTIONNAIRES:
        parts += [f"**{QUESTIONNAIRE_NAMES[slug]}** (questionnaire `{slug}`)", "", table(slug), ""]
    parts.append(END)
    return "\n".join(parts)


def current(text: str) -> str:
    start, end = text.index(START), text.index(END) + len(END)
    return text[start:end]


def rewrite(path: Path = DOC) -> bool:
    text = path.read_text(encoding="utf-8")
    new = text.replace(current(text), generated())
    if new != text:
        path.write_text(new, encoding="utf-8")
    return new != text


if __name__ == "__main__":
    changed = rewrite()
    sys.stdout.write(f"{DOC}: {'rewritten' if changed else 'already up to date'}\n")
