"""Writes for courses (DESIGN.md 3: a package past ~600 lines): plans and important dates,
proposing and booking whole courses, and re-planning after a session moves."""

from daisy.courses.services.booking import (
    CourseBooking,
    Proposal,
    SessionTime,
    course_book,
    course_propose,
)
from daisy.courses.services.plans import (
    AreaInput,
    CourseShape,
    Recommendation,
    course_presets_install,
    course_recommend,
    course_shape,
    important_date_create,
    important_date_delete,
    important_date_kind_check,
    plan_accept,
    plan_area_add,
    plan_area_grade,
    plan_create,
    plan_stop,
    plan_update,
)
from daisy.courses.services.replan import Moved, course_session_changed

__all__ = [
    "AreaInput",
    "CourseBooking",
    "CourseShape",
    "Moved",
    "Proposal",
    "Recommendation",
    "SessionTime",
    "course_book",
    "course_presets_install",
    "course_propose",
    "course_recommend",
    "course_session_changed",
    "course_shape",
    "important_date_create",
    "important_date_delete",
    "important_date_kind_check",
    "plan_accept",
    "plan_area_add",
    "plan_area_grade",
    "plan_create",
    "plan_stop",
    "plan_update",
]
