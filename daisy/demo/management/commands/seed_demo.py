from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand
from django.utils import timezone

from daisy.demo.seed import demo_seed


class Command(BaseCommand):
    help = "Seed the demo clinic once (does nothing if it exists)."

    def handle(self, *args: Any, **options: Any) -> None:
        summary = demo_seed(now=timezone.now())
        if summary.created:
            self.stdout.write(
                f"Seeded the demo clinic: {summary.clients} clients, "
                f"{summary.appointments} appointments."
            )
        else:
            self.stdout.write("The demo clinic is already there; reusing it.")
