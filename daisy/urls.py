from django.contrib import admin
from django.urls import include, path

from daisy.accounts.urls import urlpatterns as staff_account_urls
from daisy.portal.account_urls import urlpatterns as client_account_urls

admin.site.site_header = "Daisy back-office"
admin.site.site_title = "Daisy"
admin.site.index_title = "Clinic administration"

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/v1/", include("daisy.api.urls", namespace="api-v1")),
    # The clients' account pages and the staff's sign-in, in one "accounts" namespace.
    path("account/", include((client_account_urls + staff_account_urls, "accounts"))),
    path("portal/", include("daisy.portal.urls")),
    path("desk/", include("daisy.backoffice.urls", namespace="desk")),
    path("", include("daisy.site.urls")),
]

# Errors under /api/ answer in JSON, whatever the path (daisy/lib/error_pages.py).
handler400 = "daisy.lib.error_pages.bad_request"
handler403 = "daisy.lib.error_pages.permission_denied"
handler404 = "daisy.lib.error_pages.page_not_found"
handler500 = "daisy.lib.error_pages.server_error"
