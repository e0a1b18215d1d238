"""The clinic: locations and the resources that appointments use (specialists, rooms, devices),
with their weekly hours, date overrides, time off and closures."""

from __future__ import annotations

import datetime
import re
import zoneinfo

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from daisy.lib.images import PhotoField
from daisy.lib.models import PublicModel


def validate_time_zone(value: str) -> None:
    try:
        zoneinfo.ZoneInfo(value)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError) as exc:
        raise ValidationError(
            _("%(value)s is not an IANA time zone such as Europe/London."), params={"value": value}
        ) from exc


class Location(PublicModel):
    name = models.CharField(max_length=120)
    slug = models.SlugField(unique=True)
    address_line1 = models.CharField(max_length=200)
    address_line2 = models.CharField(max_length=200, blank=True)
    city = models.CharField(max_length=100)
    postcode = models.CharField(max_length=20)
    country = models.CharField(max_length=2, default="GB", help_text=_("ISO 3166 code"))
    phone = models.CharField(max_length=32, blank=True)
    email = models.EmailField(blank=True)
    time_zone = models.CharField(
        max_length=64, default="Europe/London", validators=[validate_time_zone]
    )
    is_active = models.BooleanField(default=True)
    # No text message is sent to a client between these wall-clock times in the location's
    # zone; one due then waits until the end (daisy/core/quiet_hours.py). The window may wrap
    # past midnight; equal times mean no quiet hours.
    quiet_hours_start = models.TimeField(
        default=datetime.time(21, 0),
        help_text=_("No text messages to clients from this local time..."),
    )
    quiet_hours_end = models.TimeField(
        default=datetime.time(8, 0), help_text=_("...until this local time.")
    )

    # Where a client with a red flag after a session turns when the clinic is closed (a check-in
    # at 03:28 on a Sunday), and the emergency number. Empty: the country's usual ones
    # (aftercare.selectors.urgent_contacts), NHS 111 and 999 in the UK.
    out_of_hours_name = models.CharField(
        max_length=80,
        blank=True,
        help_text=_(
            "The out-of-hours medical advice service clients are sent to when the clinic is "
            'closed, e.g. "NHS 111". Empty: the usual one for the country (NHS 111 in the UK).'
        ),
    )
    out_of_hours_phone = models.CharField(
        max_length=32,
        blank=True,
        help_text=_('Its phone number, e.g. "111". Empty: the usual one for the country.'),
    )
    emergency_number = models.CharField(
        max_length=16,
        blank=True,
        help_text=_(
            "The emergency services number, e.g. 999 (UK), 911 (US and Canada), 112 (EU). "
            "Empty: the usual one for the country."
        ),
    )
    portal_shows_photos = models.BooleanField(
        default=False,
        help_text=_(
            "Clients see the clinical photos taken here, and their progress from the first "
            "session, on their own pages. Off: the photos stay in the clinical record only."
        ),
    )

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    @property
    def tz(self) -> zoneinfo.ZoneInfo:
        return zoneinfo.ZoneInfo(self.time_zone)

    @property
    def address(self) -> str:
        parts = [self.address_line1, self.address_line2, self.city, self.postcode]
        return ", ".join(p for p in parts if p)


class Skill(models.Model):
    slug = models.SlugField(unique=True)
    name = models.CharField(max_length=80)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class RoomKind(models.TextChoices):
    TREATMENT = "treatment", _("Treatment room")
    CONSULTATION = "consultation", _("Consultation room")
    LASER = "laser", _("Laser suite")


class DeviceKind(models.TextChoices):
    MICRONEEDLING_PEN = "microneedling_pen", _("Micro-needling pen")
    HAIR_REMOVAL_LASER = "hair_removal_laser", _("Hair-removal laser")
    LED_PANEL = "led_panel", _("LED light panel")


class ResourceKind(models.TextChoices):
    SPECIALIST = "specialist", _("Specialist")
    ROOM = "room", _("Room")
    DEVICE = "device", _("Device")


class Resource(PublicModel):
    """Anything an appointment occupies. Allocations point here, so one database constraint
    covers specialists, rooms and devices alike."""

    kind = models.CharField(max_length=16, choices=ResourceKind.choices, editable=False)
    name = models.CharField(max_length=120)
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Specialist(Resource):
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="specialist"
    )
    title = models.CharField(max_length=120, blank=True, help_text=_("e.g. Skin specialist"))
    bio = models.TextField(
        _("biography"),
        blank=True,
        help_text=_(
            "What a client reads on the profile page. A blank line starts a new paragraph. "
            "The first paragraph also shows on the list of specialists."
        ),
    )
    skills = models.ManyToManyField(Skill, blank=True, related_name="specialists")
    locations = models.ManyToManyField(Location, related_name="specialists")
    # The public profile (issue 12 item 7): what lets a client check who will treat them.
    slug = models.SlugField(
        max_length=80,
        blank=True,
        help_text=_(
            "The end of the profile page's web address, e.g. sofia-marin. Leave it empty to "
            "show this person on the list of specialists without a page of their own."
        ),
    )
    photo = PhotoField(
        upload_to="public/team/",
        blank=True,
        help_text=_(
            "A friendly head-and-shoulders photo (JPEG, PNG or WebP, up to 10 MB). It is "
            "shown on the public site; location and camera details are removed."
        ),
    )
    qualifications = models.TextField(
        blank=True, help_text=_("One per line, e.g. BSc (Hons) Adult Nursing.")
    )
    registration_body = models.CharField(
        _("professional register"),
        max_length=160,
        blank=True,
        help_text=_("e.g. Nursing and Midwifery Council (NMC)."),
    )
    registration_number = models.CharField(
        max_length=40, blank=True, help_text=_("The number a client can look up on the register.")
    )
    register_url = models.URLField(
        _("register web address"),
        blank=True,
        help_text=_("Where a client can check the register, e.g. the register's search page."),
    )
    specialities = models.TextField(
        blank=True, help_text=_("One per line: what this person is known for.")
    )
    languages = models.CharField(max_length=200, blank=True, help_text=_("e.g. English, Spanish."))

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(
                fields=["slug"], condition=~Q(slug=""), name="specialist_unique_slug"
            )
        ]

    @property
    def qualification_list(self) -> list[str]:
        return [line.strip() for line in self.qualifications.splitlines() if line.strip()]

    @property
    def speciality_list(self) -> list[str]:
        return [line.strip() for line in self.specialities.splitlines() if line.strip()]

    @property
    def bio_first_paragraph(self) -> str:
        return re.split(r"\n\s*\n", self.bio.strip(), maxsplit=1)[0] if self.bio else ""

    def save(self, *args: object, **kwargs: object) -> None:
        self.kind = ResourceKind.SPECIALIST
        super().save(*args, **kwargs)  # type: ignore[arg-type]


class Room(Resource):
    location = models.ForeignKey(Location, on_delete=models.PROTECT, related_name="rooms")
    room_kind = models.CharField(max_length=32, choices=RoomKind.choices)

    class Meta:
        ordering = ["name"]

    def save(self, *args: object, **kwargs: object) -> None:
        self.kind = ResourceKind.ROOM
        super().save(*args, **kwargs)  # type: ignore[arg-type]


class DeviceStatus(models.TextChoices):
    IN_SERVICE = "in_service", _("In service")
    MAINTENANCE = "maintenance", _("In maintenance")
    RETIRED = "retired", _("Retired")


class Device(Resource):
    location = models.ForeignKey(Location, on_delete=models.PROTECT, related_name="devices")
    device_kind = models.CharField(max_length=32, choices=DeviceKind.choices)
    model_name = models.CharField(max_length=120, blank=True)
    serial = models.CharField(max_length=80, unique=True)
    status = models.CharField(
        max_length=16, choices=DeviceStatus.choices, default=DeviceStatus.IN_SERVICE
    )
    # DOMAIN.md 3.1: the software stores each device's labelled maximum depth and refuses a
    # charted depth above it (SkinPen: settings above 1.5 mm not evaluated).
    max_depth_mm = models.DecimalField(
        _("labelled maximum depth (mm)"),
        max_digits=3,
        decimal_places=2,
        null=True,
        blank=True,
        help_text=_(
            "The deepest needle setting the device's labelling covers, e.g. 1.50. A chart with "
            "a deeper setting is refused. Empty: only the pen range (up to 3 mm) applies."
        ),
    )

    class Meta:
        ordering = ["name"]

    def save(self, *args: object, **kwargs: object) -> None:
        self.kind = ResourceKind.DEVICE
        super().save(*args, **kwargs)  # type: ignore[arg-type]


class Weekday(models.IntegerChoices):
    # date.weekday() numbering (DESIGN.md 7)
    MONDAY = 0, _("Monday")
    TUESDAY = 1, _("Tuesday")
    WEDNESDAY = 2, _("Wednesday")
    THURSDAY = 3, _("Thursday")
    FRIDAY = 4, _("Friday")
    SATURDAY = 5, _("Saturday")
    SUNDAY = 6, _("Sunday")


class WeeklyHours(models.Model):
    """Opening hours of a location (resource empty) or working hours of one resource at a
    location. A resource with no hours of its own follows the location's hours."""

    location = models.ForeignKey(Location, on_delete=models.CASCADE, related_name="weekly_hours")
    resource = models.ForeignKey(
        Resource, on_delete=models.CASCADE, null=True, blank=True, related_name="weekly_hours"
    )
    weekday = models.IntegerField(choices=Weekday.choices)
    opens_at = models.TimeField()
    closes_at = models.TimeField()

    class Meta:
        ordering = ["location", "resource", "weekday", "opens_at"]
        verbose_name_plural = "weekly hours"
        constraints = [
            models.CheckConstraint(
                condition=Q(closes_at__gt=models.F("opens_at")),
                name="weeklyhours_closes_after_opens",
            )
        ]

    def __str__(self) -> str:
        who = self.resource.name if self.resource_id else self.location.name
        return f"{who}: {self.get_weekday_display()} {self.opens_at:%H:%M}-{self.closes_at:%H:%M}"


class DateOverride(models.Model):
    """Different hours on one date. Rows with is_closed mark the whole day closed; several open
    rows on the same date make a split day."""

    location = models.ForeignKey(Location, on_delete=models.CASCADE, related_name="date_overrides")
    resource = models.ForeignKey(
        Resource, on_delete=models.CASCADE, null=True, blank=True, related_name="date_overrides"
    )
    on = models.DateField()
    is_closed = models.BooleanField(default=False)
    opens_at = models.TimeField(null=True, blank=True)
    closes_at = models.TimeField(null=True, blank=True)
    note = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["on", "opens_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(is_closed=True)
                | Q(
                    opens_at__isnull=False,
                    closes_at__isnull=False,
                    closes_at__gt=models.F("opens_at"),
                ),
                name="dateoverride_open_hours_valid",
            )
        ]

    def clean(self) -> None:
        if not self.is_closed and (
            self.opens_at is None or self.closes_at is None or self.closes_at <= self.opens_at
        ):
            raise ValidationError(
                _("Give opening and closing times (closing after opening), or tick closed.")
            )

    def __str__(self) -> str:
        return f"{self.on}: {'closed' if self.is_closed else f'{self.opens_at}-{self.closes_at}'}"


class TimeOff(models.Model):
    resource = models.ForeignKey(Resource, on_delete=models.CASCADE, related_name="time_off")
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField()
    reason = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["starts_at"]
        verbose_name_plural = "time off"
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_at__gt=models.F("starts_at")), name="timeoff_ends_after_starts"
            )
        ]

    def __str__(self) -> str:
        return f"{self.resource}: {self.starts_at:%Y-%m-%d %H:%M} - {self.ends_at:%Y-%m-%d %H:%M}"


class Closure(models.Model):
    """A day the clinic is closed (public holiday). No location means every location."""

    location = models.ForeignKey(
        Location, on_delete=models.CASCADE, null=True, blank=True, related_name="closures"
    )
    on = models.DateField()
    name = models.CharField(max_length=120)

    class Meta:
        ordering = ["on"]
        constraints = [
            models.UniqueConstraint(fields=["location", "on"], name="closure_unique_per_day"),
            # NULLs are distinct in a unique index, so "every location" needs its own rule.
            models.UniqueConstraint(
                fields=["on"], condition=Q(location__isnull=True), name="closure_unique_all_day"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.on}: {self.name}"
