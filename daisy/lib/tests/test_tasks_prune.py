"""The task queue's rows do not pile up: finished ones (and RUNNING ones a killed worker left)
go after a day; waiting ones and recent ones stay."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone
from django_tasks.base import TaskResultStatus
from django_tasks_db.models import DBTaskResult

from daisy.lib.tasks import task_results_prune
from daisy.notifications.tasks import deliver_due

pytestmark = pytest.mark.django_db


def _row(status: str, age: timedelta) -> DBTaskResult:
    result = deliver_due.using(backend="default").enqueue()
    row = DBTaskResult.objects.get(pk=result.id)
    at = timezone.now() - age
    DBTaskResult.objects.filter(pk=row.pk).update(
        status=status, started_at=at, finished_at=None if status == "RUNNING" else at
    )
    return row


def test_old_finished_and_abandoned_rows_go_waiting_and_recent_ones_stay(settings):
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
    old, new = timedelta(days=2), timedelta(hours=1)
    gone = [
        _row(TaskResultStatus.SUCCESSFUL, old),
        _row(TaskResultStatus.FAILED, old),
        _row(TaskResultStatus.RUNNING, old),
    ]
    kept = [
        _row(TaskResultStatus.SUCCESSFUL, new),
        _row(TaskResultStatus.RUNNING, new),
        _row(TaskResultStatus.READY, old),
    ]
    assert task_results_prune(now=timezone.now()) == 3
    left = set(DBTaskResult.objects.values_list("pk", flat=True))
    assert left == {r.pk for r in kept}
    assert not left & {r.pk for r in gone}


def test_every_worker_runs_it():
    from daisy.notifications.management.commands.worker import periodic_jobs

    assert "daisy.lib.tasks.task_results_prune" in [path for path, _, _ in periodic_jobs()]
