from django.contrib import admin
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from daisy.audit.adminlog import AuditedAdminMixin
from daisy.lib.images import PhotoFilesAdminMixin
from daisy.site.models import ClinicPhoto, FaqEntry, PriceOption, SitePage, TreatmentPage


@admin.register(SitePage)
class SitePageAdmin(AuditedAdminMixin, admin.ModelAdmin):
    list_display = ["slug", "title", "updated_at"]
    readonly_fields = ["updated_at"]


class PriceOptionInline(admin.TabularInline):
    model = PriceOption
    extra = 1
    fields = ["label", "sessions", "price", "note", "order"]


@admin.register(TreatmentPage)
class TreatmentPageAdmin(AuditedAdminMixin, admin.ModelAdmin):
    inlines = [PriceOptionInline]
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
class FaqEntryAdmin(AuditedAdminMixin, admin.ModelAdmin):
    list_display = ["question", "order", "is_published"]
    list_editable = ["order", "is_published"]


@admin.register(ClinicPhoto)
class ClinicPhotoAdmin(AuditedAdminMixin, PhotoFilesAdminMixin, admin.ModelAdmin):
    photo_fields = ("image",)
    list_display = ["thumbnail", "alt_text", "order", "is_published", "updated_at"]
    list_display_links = ["thumbnail", "alt_text"]
    list_editable = ["order", "is_published"]
    fields = ["image", "preview", "alt_text", "caption", "order", "is_published"]
    readonly_fields = ["preview", "updated_at"]

    @admin.display(description=_("photo"))
    def thumbnail(self, obj: ClinicPhoto) -> str:
        return format_html('<img src="{}" alt="" width="96">', obj.image.url) if obj.image else ""

    @admin.display(description=_("as clients see it"))
    def preview(self, obj: ClinicPhoto) -> str:
        return format_html('<img src="{}" alt="" width="320">', obj.image.url) if obj.image else ""
