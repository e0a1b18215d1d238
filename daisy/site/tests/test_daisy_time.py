"""The local_time filter: every time in the location's own zone, with the zone named."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest
from django.template import Context, Template

from daisy.site.templatetags.daisy_time import local_clock, local_time, zone_label


class Place:
    def __init__(self, time_zone: str) -> None:
        self.time_zone = time_zone


def test_shows_london_summer_time_and_names_the_zone():
    # 09:30 UTC on 2 July is 10:30 in London (BST, UTC+1).
    when = datetime(2030, 7, 2, 9, 30, tzinfo=UTC)
    assert local_time(when, Place("Europe/London")) == "Tue 2 Jul 2030, 10:30 London time"


def test_same_instant_reads_differently_at_another_location():
    when = datetime(2030, 7, 2, 9, 30, tzinfo=UTC)
    assert local_time(when, Place("America/New_York")) == "Tue 2 Jul 2030, 05:30 New York time"


def test_the_clock_time_stays_right_across_the_autumn_change():
    # The clocks go back in London at 02:00 BST on 27 Oct 2030: 10:00 local is 09:00 UTC before
    # and 10:00 UTC after.
    london = Place("Europe/London")
    assert local_clock(datetime(2030, 10, 26, 9, 0, tzinfo=UTC), london) == "10:00"
    assert local_clock(datetime(2030, 10, 28, 10, 0, tzinfo=UTC), london) == "10:00"


def test_accepts_zone_names_and_zoneinfo():
    assert zone_label("Europe/London") == "London"
    assert zone_label(ZoneInfo("America/Argentina/Buenos_Aires")) == "Buenos Aires"


def test_refuses_a_naive_datetime():
    with pytest.raises(ValueError):
        local_time(datetime(2030, 7, 2, 9, 30), Place("Europe/London"))


def test_works_in_a_template():
    rendered = Template("{% load daisy_time %}{{ t|local_time:place }}").render(
        Context({"t": datetime(2030, 1, 7, 10, 0, tzinfo=UTC), "place": Place("Europe/London")})
    )
    assert rendered == "Mon 7 Jan 2030, 10:00 London time"
