from django.contrib import admin
from django.urls import include, path

admin.site.site_header = "Daisy back-office"
admin.site.site_title = "Daisy"
admin.site.index_title = "Clinic administration"

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/v1/", include("daisy.api.urls", namespace="api-v1")),
    path("account/", include("daisy.accounts.urls")),
    path("portal/", include("daisy.portal.urls")),
    path("desk/", include("daisy.backoffice.urls", namespace="desk")),
    path("", include("daisy.site.urls")),
]
