"""Client accounts (issue 4): the login a client signs in to the portal with, tied to their client
record. It composes `daisy.accounts` (logins, mailed-link tokens), `daisy.clients` (the record)
and the outbox, so it sits in clients, above accounts (DESIGN.md 3 layers)."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from django.conf import settings
from django.contrib.auth.password_validation import validate_password
from django.core import signing
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import IntegrityError, transaction
from django.db.models import ProtectedError
from django.urls import reverse
from django.utils import translation
from django.utils.http import urlencode
from django.utils.translation import gettext as _

from daisy.accounts.models import (
    EmailToken,
    EmailTokenPurpose,
    Role,
    User,
)
from daisy.audit.models import AuditEntry
from daisy.audit.services import audit_record
from daisy.clients.models import Client
from daisy.clients.selectors import client_find, client_for_user
from daisy.clients.services import client_create, email_key, email_normalise
from daisy.lib.errors import ClientExists, ValidationFailed
from daisy.notifications.services import message_discard_unsent, message_schedule

# --- client accounts (issue 4) ------------------------------------------------------------------
# Clients sign in with their email address. An address counts as theirs once they follow a link
# mailed to it (verification, sign-in link or password reset); until then a password alone does
# not open the portal, so nobody can reach a client's appointments by typing their address.

# How long each mailed link works.
VERIFY_MAX_AGE = timedelta(days=3)
SIGN_IN_LINK_MAX_AGE = timedelta(minutes=15)
PASSWORD_RESET_MAX_AGE = timedelta(hours=1)
# A "manage your booking" link in a booking message: one use, until the booking's time (so
# the link in a confirmation works when the client wants to move it), within these bounds.
MANAGE_LINK_MIN_AGE = timedelta(days=1)
MANAGE_LINK_MAX_AGE = timedelta(days=90)
# At most this many sign-in or reset emails per address per window: a stranger typing someone's
# address cannot flood their inbox.
MAX_TOKENS_PER_WINDOW = 3
TOKEN_WINDOW = timedelta(minutes=15)
VERIFY_RESEND_GAP = timedelta(minutes=5)
VERIFY_SALT = "daisy.accounts.verify-email"
GENERIC = "generic"


def _client_username() -> str:
    # Not the email: the username shows in the back-office and in logs; this says nothing.
    return f"client-{secrets.token_hex(8)}"


def _link(route: str, *args: str) -> str:
    return settings.DAISY_PUBLIC_URL + reverse(route, args=args)


def _address(email: str) -> str:
    address = email_normalise(email or "")
    if not address:
        msg = _("Enter your email address.")
        raise ValidationFailed(msg, fields={"email": msg})
    return address


def client_user_find(email: str) -> User | None:
    """The active client login for this address (any case), or None."""
    return (
        User.objects.filter(role=Role.CLIENT, is_active=True, email__iexact=email.strip())
        .order_by("date_joined")
        .first()
    )


def _mail(
    *,
    user: User,
    client: Client | None,
    kind: str,
    key: str,
    subject: str,
    paragraphs: list[str],
    link: str,
    link_text: str,
    now: datetime,
    expires_at: datetime | None,
) -> None:
    message_schedule(
        channel="email",
        recipient=user.email,
        template=GENERIC,
        context={
            "name": user.first_name,
            "subject": subject,
            "paragraphs": paragraphs,
            "link": link,
            "link_text": link_text,
        },
        send_after=now,
        expires_at=expires_at,
        dedupe_key=f"accounts.{kind}:{user.pk}:{key}",
        about=f"user:{user.pk}",
        client=client,
        language=translation.get_language() or "",
        now=now,
    )


def _address_digest(email: str) -> str:
    # A signed token is readable by anyone (base64, not encrypted): it names the address only
    # by a digest, so the link carries no personal data.
    return hashlib.sha256(email.lower().encode("utf-8")).hexdigest()[:20]


def email_verification_token(*, user: User, now: datetime) -> str:
    return signing.dumps(
        {"u": str(user.pk), "e": _address_digest(user.email), "t": int(now.timestamp())},
        salt=VERIFY_SALT,
    )


def email_verification_send(*, user: User, now: datetime, client: Client | None = None) -> None:
    """Mail the "confirm your email address" link. Call inside the write's transaction."""
    token = email_verification_token(user=user, now=now)
    User.objects.filter(pk=user.pk).update(verification_sent_at=now)
    user.verification_sent_at = now
    _mail(
        user=user,
        client=client if client is not None else client_for_user(user),
        kind="verify",
        key=str(int(now.timestamp())),
        subject=str(_("Please confirm your email address")),
        paragraphs=(
            [
                str(_("Thank you for creating your account with us.")),
                str(
                    _(
                        "Please confirm that this is your email address by following the link "
                        "below. It works for 3 days."
                    )
                ),
                str(_("If you did not ask for an account, you can ignore this email.")),
            ]
            if user.has_usable_password()
            else [
                # A guest who booked without a password: say how they get back in.
                str(
                    _("Thank you for booking with us. Your booking confirmation comes separately.")
                ),
                str(
                    _(
                        "Please confirm that this is your email address by following the link "
                        "below (it works for 3 days). The page it opens lets you choose a "
                        "password, or sign in with a link we email you, to see, move or cancel "
                        "your booking online."
                    )
                ),
                str(
                    _(
                        "The “Manage your booking” link in your confirmation signs you in "
                        "straight away, and offers a password too."
                    )
                ),
                str(_("If you did not book with us, you can ignore this email.")),
            ]
        ),
        link=_link("accounts:verify-email", token),
        link_text=str(_("Confirm my email address")),
        now=now,
        expires_at=now + VERIFY_MAX_AGE,
    )


def client_account_ensure(
    *,
    email: str,
    first_name: str,
    last_name: str,
    phone: str,
    date_of_birth: date | None,
    now: datetime,
    password: str | None = None,
) -> tuple[User | None, Client, bool]:
    """The client record of the person with these details, and the login their booking is
    made by: (user, client, created). One person, one record (issue 11): the person is found by
    the login on this address, else by a client record with this address, else by one with
    this phone number (however either is typed); only then is a record made. Details typed by
    someone not signed in never change a record found.

    - A login on this address: it and its record, as they are.
    - A record with this address and no login: a new login on the address is attached to it,
      unverified and without a usable password (a typed password is dropped), and "confirm
      your email" is mailed to the address. It opens nothing until the address's owner follows
      a link mailed there, so typing someone's address books on their record (their findings,
      holds and important dates apply) and shows the typist nothing of it.
    - A record found by phone only, or holding this address with a login on another one: the
      booking is that record's and no login is made (user is None: a guest acted). A login on
      the typed address would let whoever reads that inbox into someone else's record.
    - Nobody known: a new record and login, with the verification email.

    `created` is True when a login was made (and its verification email queued), whether or
    not the record is new. Everything happens in the caller's transaction."""
    address = _address(email)
    existing = client_user_find(address)
    if existing is not None:
        return existing, _client_of(existing, now=now), False
    retired = _retired_login_client(address)
    if retired is not None:
        return None, retired, False
    try:
        with transaction.atomic():
            known = client_find(email=address, phone=phone)
            if known is not None:
                return _known_client_login(known, address=address, now=now)
            user = _client_user_new(
                address=address, first_name=first_name, last_name=last_name, password=password
            )
            client = client_create(
                first_name=first_name,
                last_name=last_name,
                email=address,
                phone=phone,
                date_of_birth=date_of_birth,
                user=user,
                by=user,
                now=now,
            )
            audit_record(actor=user, action="account.create", obj=user, at=now)
            email_verification_send(user=user, client=client, now=now)
    except (IntegrityError, ClientExists):
        # The same person was registered a moment ago by a concurrent request: that one stands.
        existing = client_user_find(address)
        if existing is not None:
            return existing, _client_of(existing, now=now), False
        known = client_find(email=address, phone=phone)
        if known is None:
            raise
        return None, known, False
    return user, client, True


def _retired_login_client(address: str) -> Client | None:
    """The record now kept for a person whose login on this address stopped working when their
    record was merged into another (client_login_retire): the address still names them."""
    login = (
        User.objects.filter(role=Role.CLIENT, is_active=False, email__iexact=address)
        .order_by("date_joined")
        .first()
    )
    record = client_for_user(login) if login is not None else None
    while record is not None and record.merged_into_id is not None:
        record = record.merged_into
    return record if record is not None and record.user_id != getattr(login, "pk", None) else None


def _client_user_new(
    *, address: str, first_name: str, last_name: str, password: str | None
) -> User:
    user = User(
        username=_client_username(),
        email=address,
        role=Role.CLIENT,
        first_name=(first_name or "").strip()[:150],
        last_name=(last_name or "").strip()[:150],
    )
    if password is None:
        user.set_unusable_password()
    else:
        user.set_password(password)
    user.save(force_insert=True)
    return user


def _known_client_login(
    client: Client, *, address: str, now: datetime
) -> tuple[User | None, Client, bool]:
    """See client_account_ensure: a login for a known record only on the record's own address."""
    if client.user_id is not None or email_key(client.email) != email_key(address):
        return None, client, False
    locked = Client.objects.select_for_update().get(pk=client.pk)
    if locked.user_id is not None:
        return None, locked, False
    # The record's own address and names: the login is its owner's, typed details are not kept.
    user = _client_user_new(
        address=address, first_name=locked.first_name, last_name=locked.last_name, password=None
    )
    Client.objects.filter(pk=locked.pk).update(user=user)
    locked.user = user
    audit_record(
        actor=None,
        action="account.create",
        obj=user,
        at=now,
        data={"for_client": str(locked.pk), "reason": "a booking with the record's address"},
    )
    email_verification_send(user=user, client=locked, now=now)
    return user, locked, True


def client_account_withdraw(*, user: User, now: datetime) -> bool:
    """Take back an account that `client_account_ensure` made a moment ago for a guest whose
    booking then failed (the time was taken, a hard stop, a clinic rule): nothing of the guest
    is kept, and the "confirm your email" message is cancelled before it goes out. An account
    that has been used meanwhile (signed in, confirmed, or holding any appointment, course or
    alert: their foreign keys protect the record) stays as it is. A record that existed before
    the login (one it was attached to) stays too, with everything on it: only the login goes.
    True when it was removed."""
    with transaction.atomic():
        fresh = User.objects.select_for_update().filter(pk=user.pk, role=Role.CLIENT).first()
        if fresh is None or fresh.last_login is not None or fresh.email_verified_at is not None:
            return False
        try:
            with transaction.atomic():
                message_discard_unsent(about=f"user:{fresh.pk}")
                client = client_for_user(fresh)
                if client is not None and _made_with(client, fresh):
                    client.delete()
                elif client is not None:
                    Client.objects.filter(pk=client.pk).update(user=None)
                EmailToken.objects.filter(user=fresh).delete()
                fresh.delete()
        except (ProtectedError, IntegrityError):
            return False
        audit_record(
            actor=None,
            action="account.withdraw",
            obj=user,
            at=now,
            data={"reason": "the booking that made it did not go through"},
        )
    return True


def _made_with(client: Client, user: User) -> bool:
    """Whether the record was made by this login (with it, by client_account_ensure)."""
    return AuditEntry.objects.filter(
        action="client.create", object_id=str(client.pk), actor=user
    ).exists()


def client_login_grant(
    *, client: Client, password: str, now: datetime, is_email_confirmed: bool = False
) -> User:
    """Give a client record that has none a login for the portal, on its own email address
    (the demo clinic's sample client; staff setting up a client in person)."""
    if client.user_id is not None:
        raise ValidationFailed(_("This client can already sign in."))
    address = _address(client.email)
    if client_user_find(address) is not None:
        raise ValidationFailed(
            _("Another login already uses this email address."), fields={"email": "taken"}
        )
    with transaction.atomic():
        user = User(
            username=_client_username(),
            email=address,
            role=Role.CLIENT,
            first_name=client.first_name[:150],
            last_name=client.last_name[:150],
            email_verified_at=now if is_email_confirmed else None,
        )
        user.set_password(password)
        user.save(force_insert=True)
        Client.objects.filter(pk=client.pk).update(user=user)
        client.user = user
        audit_record(actor=None, action="account.grant", obj=user, at=now)
    return user


def _client_of(user: User, *, now: datetime) -> Client:
    client = client_for_user(user)
    if client is None:
        # A client login without a record (made by hand in the admin): the record on its own
        # address when that has no login yet (the same owner), else a record of its own.
        with transaction.atomic():
            known = client_find(email=user.email)
            if known is not None and email_key(known.email) == email_key(user.email):
                if Client.objects.filter(pk=known.pk, user__isnull=True).update(user=user):
                    known.user = user
                    return known
            client = client_create(
                first_name=user.first_name or user.email.partition("@")[0],
                last_name=user.last_name or "-",
                email=user.email,
                user=user,
                by=user,
                now=now,
                confirm_duplicate=True,
            )
    return client


@dataclass(frozen=True)
class Registration:
    created: bool  # False: the address already had an account (never shown to the visitor)


def client_register(
    *, email: str, password: str, first_name: str, last_name: str, now: datetime
) -> Registration:
    """Register with email and password. Whether or not the address already has an account,
    the visitor sees the same "check your inbox" answer; the inbox gets either the verification
    link or a note that the account exists, with the way back in. An address on a client
    record the clinic already keeps gets a login on that record without the typed password
    (see client_account_ensure): its owner signs in with a mailed link, then sets one."""
    address = _address(email)
    problems: dict[str, str] = {}
    for field, value in (("first_name", first_name), ("last_name", last_name)):
        if not (value or "").strip():
            problems[field] = str(_("This field is required."))
    candidate = User(email=address, first_name=first_name, last_name=last_name, role=Role.CLIENT)
    try:
        validate_password(password, user=candidate)
    except DjangoValidationError as exc:
        problems["password"] = " ".join(str(m) for m in exc.messages)
    if problems:
        first = next(iter(problems.values()))
        raise ValidationFailed(
            first if len(problems) == 1 else str(_("Some details need correcting.")),
            fields=problems,
        )
    existing = client_user_find(address)
    if existing is None:
        user, _client, created = client_account_ensure(
            email=address,
            first_name=first_name,
            last_name=last_name,
            phone="",
            date_of_birth=None,
            now=now,
            password=password,
        )
        if created:
            return Registration(created=True)
        if user is None:
            # The address is on a record whose login uses another address: the owner signs in
            # with that one; nothing is mailed, and the visitor sees the usual answer.
            return Registration(created=False)
        existing = user
    with transaction.atomic():
        recent = EmailToken.objects.filter(user=existing, created_at__gte=now - TOKEN_WINDOW)
        if recent.count() < MAX_TOKENS_PER_WINDOW:
            _mail(
                user=existing,
                client=client_for_user(existing),
                kind="already-registered",
                key=str(int(now.timestamp())),
                subject=str(_("You already have an account with us")),
                paragraphs=[
                    str(
                        _(
                            "Someone, probably you, tried to create an account with this email "
                            "address. You already have one, so nothing has changed."
                        )
                    ),
                    str(
                        _(
                            "Sign in with your password, or ask for a sign-in link or a "
                            "password reset on the sign-in page."
                        )
                    ),
                ],
                link=_link("accounts:sign-in"),
                link_text=str(_("Go to the sign-in page")),
                now=now,
                expires_at=now + VERIFY_MAX_AGE,
            )
    return Registration(created=False)


def email_verify(*, token: str, now: datetime) -> User:
    """Follow a verification link: the address is confirmed (again, harmlessly, if it was)."""
    invalid = str(_("This confirmation link is not valid. Please ask for a new one."))
    try:
        data = signing.loads(token, salt=VERIFY_SALT)
    except signing.BadSignature:
        raise ValidationFailed(invalid, code="invalid_link") from None
    if not isinstance(data, dict) or not {"u", "e", "t"} <= data.keys():
        raise ValidationFailed(invalid, code="invalid_link")
    made = datetime.fromtimestamp(int(data["t"]), tz=UTC)
    if now - made > VERIFY_MAX_AGE or made - now > timedelta(minutes=5):
        raise ValidationFailed(
            str(_("This confirmation link has expired. Please ask for a new one.")),
            code="expired_link",
        )
    with transaction.atomic():
        user = User.objects.select_for_update().filter(pk=data["u"], is_active=True).first()
        # An address changed since the link was sent is not confirmed by the old link.
        if user is None or _address_digest(user.email) != data["e"]:
            raise ValidationFailed(invalid, code="invalid_link")
        if user.email_verified_at is None:
            user.email_verified_at = now
            user.save(update_fields=["email_verified_at"])
            audit_record(actor=user, action="account.verify_email", obj=user, at=now)
    return user


def email_verification_resend(*, user: User, now: datetime) -> bool:
    """Send the verification link again, at most once per VERIFY_RESEND_GAP."""
    with transaction.atomic():
        locked = User.objects.select_for_update().get(pk=user.pk)
        if locked.email_verified_at is not None:
            return False
        last = locked.verification_sent_at
        if last is not None and now - last < VERIFY_RESEND_GAP:
            return False
        email_verification_send(user=locked, now=now)
        return True


def _secret_hash(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def _email_token_issue(
    *, email: str, purpose: str, max_age: timedelta, now: datetime
) -> tuple[User, str] | None:
    """A new single-use secret for the client login at this address, or None when there is no
    such login or it has had enough emails lately. Callers answer the same either way."""
    address = _address(email)
    user = client_user_find(address)
    if user is None:
        return None
    recent = EmailToken.objects.filter(
        user=user, purpose=purpose, created_at__gte=now - TOKEN_WINDOW
    ).count()
    if recent >= MAX_TOKENS_PER_WINDOW:
        return None
    secret = secrets.token_urlsafe(32)
    EmailToken.objects.create(
        user=user,
        purpose=purpose,
        secret_hash=_secret_hash(secret),
        created_at=now,
        expires_at=now + max_age,
    )
    return user, secret


def sign_in_link_request(*, email: str, now: datetime) -> None:
    """Mail a one-time sign-in link if the address has a client account; say nothing either
    way (the page tells every visitor the same)."""
    with transaction.atomic():
        issued = _email_token_issue(
            email=email, purpose=EmailTokenPurpose.SIGN_IN, max_age=SIGN_IN_LINK_MAX_AGE, now=now
        )
        if issued is None:
            return
        user, secret = issued
        _mail(
            user=user,
            client=client_for_user(user),
            kind="sign-in-link",
            key=_secret_hash(secret)[:16],
            subject=str(_("Your sign-in link")),
            paragraphs=[
                str(_("Here is the link you asked for to sign in to your account.")),
                str(_("It works once, for 15 minutes.")),
                str(_("If you did not ask for it, ignore this email: nobody can use it but you.")),
            ],
            link=_link("accounts:sign-in-link", secret),
            link_text=str(_("Sign in")),
            now=now,
            expires_at=now + SIGN_IN_LINK_MAX_AGE,
        )


@dataclass(frozen=True)
class ManageLink:
    url: str
    is_one_time: bool  # a sign-in link (a guest without a password), not the page itself


def client_manage_link(
    *, user: User | None, path: str, until: datetime, now: datetime
) -> ManageLink:
    """The link a booking message gives for managing the booking at `path` (a page of the
    portal). A client with a password gets the page itself: they sign in as usual. A client
    without one (a guest who booked without an account) gets a one-time sign-in link to it,
    working until `until` (at least a day, at most 90 days from now); the page it signs them
    in to offers to choose a password (`client_password_set`). Call it inside the transaction
    that schedules the message, so a rolled-back booking leaves no live link behind.

    No link (an empty URL) for a client record without an active client login."""
    if user is None or not user.is_active or user.role != Role.CLIENT:
        return ManageLink("", False)
    page = settings.DAISY_PUBLIC_URL + path
    if user.has_usable_password():
        return ManageLink(page, False)
    expires_at = min(max(until, now + MANAGE_LINK_MIN_AGE), now + MANAGE_LINK_MAX_AGE)
    secret = secrets.token_urlsafe(32)
    EmailToken.objects.create(
        user=user,
        purpose=EmailTokenPurpose.SIGN_IN,
        secret_hash=_secret_hash(secret),
        created_at=now,
        expires_at=expires_at,
    )
    url = _link("accounts:sign-in-link", secret) + "?" + urlencode({"next": path})
    return ManageLink(url, True)


def client_password_set(*, user: User, password: str, now: datetime) -> User:
    """A signed-in client who has no password yet (a guest who came in through a link in a
    booking message) chooses one. One who has a password changes it through a reset link,
    which proves they hold the address; this is refused for them."""
    with transaction.atomic():
        locked = User.objects.select_for_update().get(pk=user.pk)
        if locked.role != Role.CLIENT or locked.has_usable_password():
            raise ValidationFailed(
                _("You already have a password: use “Forgotten your password?” to change it."),
                code="password_exists",
            )
        try:
            validate_password(password, user=locked)
        except DjangoValidationError as exc:
            msg = " ".join(str(m) for m in exc.messages)
            raise ValidationFailed(msg, fields={"password": msg}) from None
        locked.set_password(password)
        locked.save(update_fields=["password"])
        audit_record(actor=locked, action="account.password_set", obj=locked, at=now)
    return locked


def _email_token_take(*, secret: str, purpose: str, now: datetime, consume: bool) -> EmailToken:
    invalid = {
        EmailTokenPurpose.SIGN_IN: _(
            "This sign-in link is not valid. Links work once, for 15 minutes: ask for a new one."
        ),
        EmailTokenPurpose.PASSWORD_RESET: _(
            "This password reset link is not valid. Links work once, for an hour: ask for a "
            "new one."
        ),
    }[EmailTokenPurpose(purpose)]
    token = (
        EmailToken.objects.select_for_update()
        .select_related("user")
        .filter(secret_hash=_secret_hash(secret or ""), purpose=purpose)
        .first()
    )
    if (
        token is None
        or token.used_at is not None
        or token.expires_at <= now
        or not token.user.is_active
        or token.user.role != Role.CLIENT
    ):
        raise ValidationFailed(str(invalid), code="invalid_link")
    if consume:
        token.used_at = now
        token.save(update_fields=["used_at"])
        user = token.user
        if user.email_verified_at is None:
            # Following a link mailed to the address proves the address.
            user.email_verified_at = now
            user.save(update_fields=["email_verified_at"])
    return token


def sign_in_link_use(*, secret: str, now: datetime) -> User:
    """Spend a sign-in link: the user to sign in. A second use, or a late one, is refused."""
    with transaction.atomic():
        token = _email_token_take(
            secret=secret, purpose=EmailTokenPurpose.SIGN_IN, now=now, consume=True
        )
        audit_record(actor=token.user, action="account.sign_in_link", obj=token.user, at=now)
        return token.user


def password_reset_request(*, email: str, now: datetime) -> None:
    """Mail a password reset link if the address has a client account; say nothing either way."""
    with transaction.atomic():
        issued = _email_token_issue(
            email=email,
            purpose=EmailTokenPurpose.PASSWORD_RESET,
            max_age=PASSWORD_RESET_MAX_AGE,
            now=now,
        )
        if issued is None:
            return
        user, secret = issued
        _mail(
            user=user,
            client=client_for_user(user),
            kind="password-reset",
            key=_secret_hash(secret)[:16],
            subject=str(_("Reset your password")),
            paragraphs=[
                str(
                    _("Follow the link below to choose a new password. It works once, for an hour.")
                ),
                str(
                    _(
                        "If you did not ask for this, ignore this email: your password stays "
                        "as it is."
                    )
                ),
            ],
            link=_link("accounts:password-reset-confirm", secret),
            link_text=str(_("Choose a new password")),
            now=now,
            expires_at=now + PASSWORD_RESET_MAX_AGE,
        )


def password_reset_check(*, secret: str, now: datetime) -> User:
    """The user a reset link belongs to, while it is still usable (nothing is spent)."""
    with transaction.atomic():
        return _email_token_take(
            secret=secret, purpose=EmailTokenPurpose.PASSWORD_RESET, now=now, consume=False
        ).user


def password_reset_complete(*, secret: str, password: str, now: datetime) -> User:
    """Set a new password with a reset link. The new password also ends every other session
    (Django's session hash follows the password)."""
    with transaction.atomic():
        token = _email_token_take(
            secret=secret, purpose=EmailTokenPurpose.PASSWORD_RESET, now=now, consume=False
        )
        user = token.user
        try:
            validate_password(password, user=user)
        except DjangoValidationError as exc:
            msg = " ".join(str(m) for m in exc.messages)
            raise ValidationFailed(msg, fields={"password": msg}) from None
        _email_token_take(
            secret=secret, purpose=EmailTokenPurpose.PASSWORD_RESET, now=now, consume=True
        )
        user.refresh_from_db()
        user.set_password(password)
        user.save(update_fields=["password"])
        audit_record(actor=user, action="account.password_reset", obj=user, at=now)
        return user
