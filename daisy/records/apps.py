from django.apps import AppConfig


class RecordsConfig(AppConfig):
    name = "daisy.records"
    label = "records"
    verbose_name = "Clinical records"
    # Erase kept clinical records whose retention period is over (DOMAIN.md 6.7), hourly.
    periodic_jobs = (("daisy.records.retention.records_retention_sweep", 3600),)
