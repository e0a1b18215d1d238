from django.contrib import admin

from daisy.site.models import FaqEntry, SitePage, TreatmentPage


@admin.register(SitePage)
class SitePageAdmin(admin.ModelAdmin):
    list_display = ["slug", "title", "updated_at"]
    readonly_fields = ["updated_at"]


@admin.register(TreatmentPage)
class TreatmentPageAdmin(admin.ModelAdmin):
    list_display = ["headline", "treatment_slug", "is_published", "updated_at"]
    list_filter = ["is_published"]
    readonly_fields = ["updated_at"]
    fieldsets = [
        (None, {"fields": ["treatment_slug", "headline", "intro", "is_published"]}),
        (
            "What the client reads",
            {
                "fields": [
                    "helps_with",
                    "how_it_goes",
                    "course",
                    "preparation",
                    "aftercare",
                    "not_suitable",
                    "what_to_bring",
                ]
            },
        ),
        ("Booking", {"fields": ["areas", "updated_at"]}),
    ]


@admin.register(FaqEntry)
class FaqEntryAdmin(admin.ModelAdmin):
    list_display = ["question", "order", "is_published"]
    list_editable = ["order", "is_published"]
