"""Staff two-factor sign-in (issue 16): a TOTP authenticator app, and recovery codes for the day
the phone is lost (django-otp's TOTP and static-token devices).

Every staff role signs in with a password AND a code. A staff login without an authenticator
sets one up at its first sign-in; a manager can reset a lost one (audited), after which its owner
sets up a new one at their next sign-in. A client login never needs a code."""

from __future__ import annotations

import base64
import binascii
import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import quote, urlencode

import segno
from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils.translation import gettext as _
from django_otp import devices_for_user
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from daisy.accounts.models import STAFF_ROLES, Role, User
from daisy.audit.services import audit_record
from daisy.lib.errors import PermissionDenied, ValidationFailed

RECOVERY_CODE_COUNT = 10
AUTHENTICATOR_NAME = "Authenticator app"
RECOVERY_NAME = "Recovery codes"
_SPACES = re.compile(r"[\s\-]+")


def needs_second_factor(user: Any) -> bool:
    """Every staff role signs in with a second factor; clients never do."""
    return bool(getattr(user, "is_authenticated", False)) and (
        getattr(user, "role", None) in STAFF_ROLES or bool(getattr(user, "is_staff", False))
    )


def authenticator_get(user: User) -> TOTPDevice | None:
    """The staff member's confirmed authenticator, if they have set one up."""
    return TOTPDevice.objects.filter(user=user, confirmed=True).order_by("-id").first()


def has_authenticator(user: User) -> bool:
    return TOTPDevice.objects.filter(user=user, confirmed=True).exists()


def recovery_codes_left(user: User) -> int:
    return StaticToken.objects.filter(device__user=user, device__confirmed=True).count()


def authenticator_setup_start(*, user: User) -> TOTPDevice:
    """The device being set up: one unconfirmed TOTP device per person, kept across reloads of
    the set-up page so the QR code they scanned stays the one that works."""
    device = TOTPDevice.objects.filter(user=user, confirmed=False).order_by("-id").first()
    if device is None:
        device = TOTPDevice.objects.create(user=user, name=AUTHENTICATOR_NAME, confirmed=False)
    return device


def _clean(code: str) -> str:
    return _SPACES.sub("", code or "").strip()


@dataclass(frozen=True)
class SetUp:
    device: TOTPDevice
    recovery_codes: list[str]


def authenticator_setup_confirm(*, user: User, code: str, now: datetime) -> SetUp:
    """Confirm the device being set up with a code it shows: it replaces any earlier
    authenticator, and a fresh set of recovery codes is made (shown once)."""
    cleaned = _clean(code)
    with transaction.atomic():
        device = (
            TOTPDevice.objects.select_for_update()
            .filter(user=user, confirmed=False)
            .order_by("-id")
            .first()
        )
        if device is None:
            raise ValidationFailed(
                _("Open this page again to get a new code to scan."), fields={"code": "missing"}
            )
        if not cleaned.isdigit() or not device.verify_token(cleaned):
            raise ValidationFailed(
                _(
                    "That code did not match. Type the 6 digits your app shows now for Daisy "
                    "(they change every 30 seconds)."
                ),
                fields={
                    "code": _(
                        "That code did not match. Type the 6 digits your app shows now for "
                        "Daisy (they change every 30 seconds)."
                    )
                },
            )
        TOTPDevice.objects.filter(user=user).exclude(pk=device.pk).delete()
        device.confirmed = True
        device.save(update_fields=["confirmed"])
        codes = _recovery_codes_make(user)
        audit_record(
            actor=user,
            action="staff.two_factor_set_up",
            obj=user,
            at=now,
            data={"user": user.username},
        )
    return SetUp(device, codes)


def _recovery_codes_make(user: User) -> list[str]:
    StaticDevice.objects.filter(user=user).delete()
    device = StaticDevice.objects.create(user=user, name=RECOVERY_NAME, confirmed=True)
    codes: list[str] = []
    while len(codes) < RECOVERY_CODE_COUNT:
        token = StaticToken.random_token()
        if token not in codes:
            codes.append(token)
    StaticToken.objects.bulk_create([StaticToken(device=device, token=t) for t in codes])
    return codes


def recovery_codes_renew(*, user: User, now: datetime) -> list[str]:
    """New recovery codes replace the old ones (all of them stop working)."""
    with transaction.atomic():
        codes = _recovery_codes_make(user)
        audit_record(
            actor=user,
            action="staff.recovery_codes_renewed",
            obj=user,
            at=now,
            data={"user": user.username},
        )
    return codes


def second_factor_verify(*, user: User, code: str) -> Any | None:
    """The device that accepts this code (a current authenticator code, or an unused recovery
    code, which is then spent), or None. Wrong codes slow further tries on that device
    (django-otp's throttling), so guessing the 6 digits gets nowhere."""
    cleaned = _clean(code)
    if not cleaned:
        return None
    with transaction.atomic():
        for device in devices_for_user(user, confirmed=True, for_verify=True):
            if isinstance(device, TOTPDevice):
                if cleaned.isdigit() and device.verify_token(cleaned):
                    return device
            elif device.verify_token(cleaned.lower()):
                return device
    return None


def second_factor_require(*, user: User, code: str) -> None:
    """Refuse unless a staff login proves its second factor with this code (creating an API
    token that acts as a staff member takes the same proof as signing in as them)."""
    if not needs_second_factor(user):
        return
    if not has_authenticator(user):
        raise PermissionDenied(
            _(
                "%(name)s has not set up two-factor sign-in yet: sign in once at "
                "/account/staff/sign-in/ to set it up, then create the token with --code."
            )
            % {"name": user.get_username()}
        )
    if not code.strip():
        raise PermissionDenied(
            _(
                "A staff token needs the code from %(name)s's authenticator app: add --code "
                "followed by the 6 digits it shows now (or a recovery code)."
            )
            % {"name": user.get_username()}
        )
    if second_factor_verify(user=user, code=code) is None:
        raise PermissionDenied(
            _(
                "That code did not match %(name)s's authenticator app (codes change every 30 "
                "seconds) or an unused recovery code."
            )
            % {"name": user.get_username()}
        )


def two_factor_reset(*, user: User, by: User, now: datetime) -> None:
    """A manager resets a staff member's lost authenticator: their devices and recovery codes
    go, every session of theirs ends, and they set up a new authenticator at their next
    sign-in (with their password)."""
    if getattr(by, "role", None) != Role.MANAGER:
        raise PermissionDenied(_("Only a manager can reset someone's two-factor sign-in."))
    with transaction.atomic():
        had = [d.name for d in devices_for_user(user, confirmed=None)]
        TOTPDevice.objects.filter(user=user).delete()
        StaticDevice.objects.filter(user=user).delete()
        User.objects.filter(pk=user.pk).update(session_version=F("session_version") + 1)
        audit_record(
            actor=by,
            action="staff.two_factor_reset",
            obj=user,
            at=now,
            data={"user": user.username, "by": by.username, "devices": had},
        )


def authenticator_set_secret(*, user: User, secret_base32: str) -> TOTPDevice:
    """Give a login a known authenticator secret: the demo clinic only (its staff's secrets are
    printed in the README so anyone can try the demo)."""
    key = base64.b32decode(secret_base32.replace(" ", "").upper())
    TOTPDevice.objects.filter(user=user).delete()
    return TOTPDevice.objects.create(
        user=user, name=AUTHENTICATOR_NAME, key=binascii.hexlify(key).decode(), confirmed=True
    )


def secret_text(device: TOTPDevice) -> str:
    """The secret as authenticator apps take it when typed: base32, in groups of four."""
    raw = base64.b32encode(device.bin_key).decode().rstrip("=")
    return " ".join(raw[i : i + 4] for i in range(0, len(raw), 4))


def setup_url(device: TOTPDevice) -> str:
    """The otpauth:// address a QR code carries, named after the clinic and the login."""
    issuer = str(getattr(settings, "DAISY_CLINIC_NAME", "Daisy")).replace(":", "")
    label = quote(f"{issuer}:{device.user.get_username()}")
    params = urlencode(
        {
            "secret": base64.b32encode(device.bin_key).decode().rstrip("="),
            "issuer": issuer,
            "algorithm": "SHA1",
            "digits": device.digits,
            "period": device.step,
        },
        quote_via=quote,
    )
    return f"otpauth://totp/{label}?{params}"


def qr_svg(text: str, *, title: str) -> str:
    """An inline SVG QR code (no image file, no script: fits the page's CSP)."""
    qr = segno.make(text, error="m")
    svg: str = qr.svg_inline(
        scale=5, border=4, omitsize=True, title=title, dark="#1b1b1b", light="#ffffff"
    )
    return svg
