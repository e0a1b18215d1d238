"""The delivery fault run (issue 16 item 6) as a test, on whichever database DATABASE_URL names
(SQLite or PostgreSQL): real `daisy worker` processes, one SIGKILLed every 2 s, deliver 200
messages (160 emails, 40 texts, due over 30 s) to a real SMTP server that replies late to some,
drops the connection on others, and answers nothing at all for 60 s, and to the fake SMS
provider. Nothing may be lost; every email received twice must be one the database recorded as
an unknown outcome; replies after the timeout end `unconfirmed` (not sent again); texts go on
during the stall and email resumes after it. The same run with 2,000 messages is a `make bench`
case (bench/delivery_faults.py), with its figures."""

from __future__ import annotations

from pathlib import Path

import pytest

from daisy.notifications.models import MessageStatus
from tests.support.fault_run import FaultRun, run
from tests.support.testing import current_database_url

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.slow,
    pytest.mark.timeout(600),
]


def test_faults_kills_late_replies_and_a_stall_lose_nothing_and_duplicate_only_the_recorded(
    tmp_path: Path,
) -> None:
    figures = run(FaultRun(database_url=current_database_url(), log_dir=tmp_path, timeout=200))
    logs = "\n".join(
        f"--- {p.name}\n{p.read_text(errors='replace')[-1500:]}"
        for p in sorted(tmp_path.glob("fault-worker-*.log"))[-4:]
    )
    report = f"{figures}\n{logs}"
    print(figures)

    assert figures["finished"], report
    assert figures["messages"] == 200 and figures["kills"] >= 5, report
    assert figures["lost"] == 0, report
    assert set(figures["statuses"]) <= {MessageStatus.SENT, MessageStatus.UNCONFIRMED}, report
    # Late replies and drops after the message: recorded, not sent again.
    assert figures["unconfirmed"] >= 1, report
    assert figures["duplicates_not_recorded_unknown"] == 0, report
    # While the mail server hung, texts kept going; email came back after it.
    assert figures["texts_sent_during_stall"] >= 1, report
    assert figures["emails_received_during_stall"] == 0, report
    assert figures["email_resumed_s_after_stall"] is not None, report
