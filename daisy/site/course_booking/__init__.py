"""Booking a whole micro-needling course at /book/course/ (issue 5, item 6). The views are in
`views`, their forms in `forms`, the calendar strip in `strip`."""

from daisy.site.course_booking.views import (
    check,
    details,
    done,
    important_dates,
    plan,
    review,
    start,
    when,
)

__all__ = ["check", "details", "done", "important_dates", "plan", "review", "start", "when"]
