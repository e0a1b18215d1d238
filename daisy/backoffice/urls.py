from django.contrib.auth import views as auth_views
from django.urls import path, register_converter

from daisy.backoffice import views


class IsoDate:
    regex = r"\d{4}-\d{2}-\d{2}"

    def to_python(self, value: str) -> str:
        return value

    def to_url(self, value: object) -> str:
        return str(value)


register_converter(IsoDate, "isodate")

app_name = "desk"
urlpatterns = [
    path("", views.diary, name="diary"),
    path("<isodate:on>/", views.diary, name="diary-day"),
    path("<isodate:on>/grid/", views.diary_grid, name="diary-grid"),
    path("week/<isodate:on>/", views.diary_week_view, name="diary-week"),
    path(
        "sign-in/",
        auth_views.LoginView.as_view(
            template_name="backoffice/sign_in.html",
            redirect_authenticated_user=False,
            next_page="desk:diary",
        ),
        name="sign-in",
    ),
    path("sign-out/", auth_views.LogoutView.as_view(next_page="desk:sign-in"), name="sign-out"),
]
