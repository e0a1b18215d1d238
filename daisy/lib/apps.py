from django.apps import AppConfig


class LibConfig(AppConfig):
    name = "daisy.lib"
    label = "daisy_lib"
    # Run by every `daisy worker` (see daisy/notifications/management/commands/worker.py).
    periodic_jobs = (("daisy.lib.tasks.task_results_prune", 3600),)
