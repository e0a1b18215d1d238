from django.apps import AppConfig
from django.db.models.signals import post_migrate


class SchedulingConfig(AppConfig):
    name = "daisy.scheduling"
    label = "scheduling"
    # Run by every `daisy worker`: (dotted path of a function taking `now`, every N seconds).
    # Expired holds block nobody; deleting them only keeps the table small.
    periodic_jobs = (("daisy.scheduling.services.slot_holds_purge", 300),)

    def ready(self) -> None:
        from daisy.scheduling import versioning

        # After every app's migrations (and after a test database flush): a table rebuilt by
        # a later migration loses its SQLite triggers, and this puts them back.
        post_migrate.connect(versioning.on_post_migrate, dispatch_uid="daisy-diary-version")
