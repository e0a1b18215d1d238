"""docs/clinical-rules.md says what the code ships (issue 14, item 9): its screening tables are
the shipped table (daisy/records/defaults.py), rule by rule, and every rule is on the page."""

from __future__ import annotations

from daisy.records import defaults, rules_doc


def test_the_page_and_the_shipped_table_agree() -> None:
    text = rules_doc.DOC.read_text(encoding="utf-8")
    assert rules_doc.current(text) == rules_doc.generated(), (
        "docs/clinical-rules.md is out of date: run `python -m daisy.records.rules_doc`"
    )


def test_every_shipped_rule_is_a_line_of_the_page() -> None:
    page = rules_doc.current(rules_doc.DOC.read_text(encoding="utf-8"))
    for rule in defaults.RULES:
        assert rule["condition"] in page, rule["key"]
        if rule["wait_days"]:
            assert f"| {rule['wait_days']} days |" in page, rule["key"]


def test_the_page_states_the_shipped_depth_caps_and_retention() -> None:
    from django.conf import settings

    from daisy.records.models import ChartPolicy

    text = rules_doc.DOC.read_text(encoding="utf-8")
    caps = ChartPolicy()
    assert f"| IV | {caps.cap_type_iv_mm} mm |" in text
    assert caps.cap_type_v_mm == caps.cap_type_vi_mm
    assert f"| V, VI | {caps.cap_type_vi_mm} mm |" in text
    years = settings.DAISY_RECORD_RETENTION_YEARS
    assert f"| `DAISY_RECORD_RETENTION_YEARS` | {years} years |" in text
