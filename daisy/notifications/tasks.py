"""Tasks (Django's tasks API, the django-tasks backport) are only the trigger for delivery: the
Message table is the truth, and `daisy worker` polls it as the safety net (DESIGN.md 5). A task
that runs twice, or alongside a worker's poll, sends nothing twice: every send needs a lease."""

from __future__ import annotations

from django_tasks import task

from daisy.notifications.delivery import deliver_due_now


@task()
def deliver_due() -> dict[str, int]:
    return deliver_due_now(owner_prefix="task").as_dict()
