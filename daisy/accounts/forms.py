"""Forms of the client account pages: they shape input; the rules live in services."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from daisy.lib.names import validate_person_name


def _email_field() -> forms.EmailField:
    return forms.EmailField(
        label=_("Email address"),
        max_length=254,
        widget=forms.EmailInput(attrs={"autocomplete": "email", "spellcheck": "false"}),
    )


class RegisterForm(forms.Form):
    first_name = forms.CharField(
        validators=[validate_person_name],
        label=_("First name"),
        max_length=80,
        widget=forms.TextInput(attrs={"autocomplete": "given-name"}),
    )
    last_name = forms.CharField(
        validators=[validate_person_name],
        label=_("Last name"),
        max_length=80,
        widget=forms.TextInput(attrs={"autocomplete": "family-name"}),
    )
    email = _email_field()
    password = forms.CharField(
        label=_("Choose a password"),
        strip=False,
        max_length=4096,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        help_text=_("At least 8 characters; not only numbers, and not a common password."),
    )


class SignInForm(forms.Form):
    email = _email_field()
    password = forms.CharField(
        label=_("Password"),
        strip=False,
        max_length=4096,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )


class EmailForm(forms.Form):
    email = _email_field()


class SetPasswordForm(forms.Form):
    password = forms.CharField(
        label=_("New password"),
        strip=False,
        max_length=4096,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        help_text=_("At least 8 characters; not only numbers, and not a common password."),
    )


# --- staff sign-in with a second factor (issue 16) ----------------------------------------------
# Every field takes paste and a password manager's fill: the autocomplete tokens tell the manager
# (and the phone's keyboard) what each one is; nothing blocks pasting.


def _code_field(*, required: bool) -> forms.CharField:
    return forms.CharField(
        label=_("Code from your authenticator app"),
        required=required,
        max_length=32,
        help_text=_("6 digits, changing every 30 seconds. No phone? Type a recovery code."),
        widget=forms.TextInput(
            attrs={
                "autocomplete": "one-time-code",
                "inputmode": "text",
                "autocapitalize": "none",
                "spellcheck": "false",
            }
        ),
    )


class StaffSignInForm(forms.Form):
    username = forms.CharField(
        label=_("Username"),
        max_length=150,
        widget=forms.TextInput(
            attrs={"autocomplete": "username", "autocapitalize": "none", "spellcheck": "false"}
        ),
    )
    password = forms.CharField(
        label=_("Password"),
        strip=False,
        max_length=4096,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )
    code = _code_field(required=False)

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.fields["code"].help_text = _(
            "6 digits, changing every 30 seconds; or one of your recovery codes. Leave it empty "
            "the first time you sign in: you will set up the app next."
        )


class StaffCodeForm(forms.Form):
    code = _code_field(required=True)


class AuthenticatorConfirmForm(forms.Form):
    code = forms.CharField(
        label=_("The 6-digit code your app now shows for Daisy"),
        max_length=16,
        widget=forms.TextInput(
            attrs={"autocomplete": "one-time-code", "inputmode": "numeric", "spellcheck": "false"}
        ),
    )
