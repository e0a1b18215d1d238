"""Housekeeping of the task queue (django-tasks-db): the queue's rows are triggers, the work is
recorded elsewhere (messages in notifications.Message), so a finished row is kept a day for
anyone looking into a problem and then deleted. A row left RUNNING by a worker that was killed
(django-tasks-db never marks it) is deleted after the same day: what it was doing has long been
done by the workers' own polling. Without this the table grows by a row per booking for ever."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db.models import Q
from django_tasks.base import TaskResultStatus
from django_tasks_db.models import DBTaskResult

KEEP = timedelta(days=1)


def task_results_prune(*, now: datetime) -> int:
    """Delete finished task rows (and abandoned RUNNING ones) older than KEEP; how many."""
    cutoff = now - KEEP
    finished = Q(
        status__in=[TaskResultStatus.SUCCESSFUL, TaskResultStatus.FAILED],
        finished_at__lt=cutoff,
    )
    abandoned = Q(status=TaskResultStatus.RUNNING, started_at__lt=cutoff)
    deleted, _ = DBTaskResult.objects.filter(finished | abandoned).delete()
    return deleted
