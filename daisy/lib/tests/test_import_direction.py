"""DESIGN.md 3, "Import direction", checked on the source (ast), so a wrong import fails here
before it turns into a cycle or a hidden write.

1. `daisy/core` imports only the standard library and `daisy.core` (its tests may also use
   pytest and hypothesis, never Django).
2. `daisy/core` never reads the clock: `now` is a parameter.
3. Domain `models` import only Django, the standard library, `daisy.lib` and other `models`.
4. Interface apps never import a domain app's `models` (their own tests may).
5. `notifications` imports no domain app (messages know an address, a template and a context).
6. No app imports another app's `_private` names (nor reaches them as `module._name`).
7. Only `scheduling` writes appointments, allocations and holds (create, update, delete, save on
   `Appointment`, `Allocation` or `SlotHold` anywhere else fails; tests and migrations may).
8. `scheduling` imports neither `courses`, `aftercare` nor `booking`: what happens around a
   booking is composed above it, in `daisy.booking`.
9. An app imports only its own layer and the layers below (LAYERS, DESIGN.md 3's six). A module
   outside the layers (`daisy/settings.py`, `daisy/urls.py`, the demo clinic in `daisy/demo/`)
   may import anything, and no app imports it: it sits above them all. Every app has a layer,
   so a new one cannot slip past. Tests and migrations may import anything.
"""

from __future__ import annotations

import ast
import re
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import pytest

import daisy

PACKAGE_DIR = Path(daisy.__file__).resolve().parent
REPO_DIR = PACKAGE_DIR.parent
INTERFACE_APPS = frozenset({"site", "portal", "backoffice", "api"})
# Layers 3 to 5 of DESIGN.md 3: what notifications (layer 2) must never import.
DOMAIN_APPS = frozenset(
    {"clinic", "treatments", "clients", "scheduling", "courses", "aftercare", "records", "booking"}
)
SCHEDULING_TABLES = frozenset({"Appointment", "Allocation", "SlotHold"})
WRITE_METHODS = frozenset(
    {
        "create",
        "bulk_create",
        "get_or_create",
        "update_or_create",
        "update",
        "bulk_update",
        "delete",
        "save",
        "raw",
    }
)
ABOVE_SCHEDULING = ("daisy.courses", "daisy.aftercare", "daisy.booking")
# DESIGN.md 3's layers, bottom to top.
LAYERS = {
    "core": 1,
    "lib": 1,
    "accounts": 2,
    "audit": 2,
    "notifications": 2,
    "clinic": 3,
    "treatments": 3,
    "clients": 3,
    "scheduling": 4,
    "courses": 5,
    "aftercare": 5,
    "records": 5,
    "booking": 5,
    "site": 6,
    "portal": 6,
    "backoffice": 6,
    "api": 6,
}
# Packages above every layer, like settings.py and urls.py: they compose everything.
ABOVE_LAYERS = frozenset({"demo"})
CORE_TEST_LIBRARIES = frozenset({"pytest", "hypothesis", "_pytest"})
# Reading these is reading the clock, called or passed around (`clock=time.monotonic`).
CLOCK_READS = frozenset(
    {
        "datetime.datetime.now",
        "datetime.datetime.utcnow",
        "datetime.datetime.today",
        "datetime.date.today",
        "time.time",
        "time.time_ns",
        "time.monotonic",
        "time.monotonic_ns",
        "time.perf_counter",
        "time.perf_counter_ns",
    }
)
DYNAMIC_IMPORTS = frozenset({"__import__", "import_module", "get_model"})


@dataclass(frozen=True)
class Source:
    path: str  # relative to the repository, with forward slashes
    module: str  # dotted module name
    tree: ast.Module

    @property
    def parts(self) -> tuple[str, ...]:
        return tuple(self.module.split("."))

    @property
    def is_package(self) -> bool:
        return self.path.endswith("/__init__.py")


@dataclass(frozen=True)
class Imported:
    source: Source
    lineno: int
    statement: str  # the import as written, for the failure message
    module: str  # what it makes available, resolved: `from a import b` gives "a.b"

    def __str__(self) -> str:
        return f"{self.source.path}:{self.lineno}: {self.statement!r} (imports {self.module})"


def parse(path: Path, text: str | None = None) -> Source:
    rel = path.relative_to(REPO_DIR).as_posix()
    parts = rel.removesuffix(".py").split("/")
    if parts[-1] == "__init__":
        parts = parts[:-1]
    source_text = path.read_text(encoding="utf-8") if text is None else text
    return Source(rel, ".".join(parts), ast.parse(source_text, filename=rel))


@cache
def all_sources() -> tuple[Source, ...]:
    return tuple(
        parse(path) for path in sorted(PACKAGE_DIR.rglob("*.py")) if "__pycache__" not in path.parts
    )


def _resolve_from(source: Source, node: ast.ImportFrom) -> str:
    if node.level == 0:
        return node.module or ""
    package = source.parts if source.is_package else source.parts[:-1]
    base = package[: len(package) - (node.level - 1)]
    return ".".join([*base, node.module] if node.module else base)


def imports(source: Source) -> Iterator[Imported]:
    """Every import, anywhere in the file (functions and TYPE_CHECKING blocks included)."""
    for node in ast.walk(source.tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield Imported(source, node.lineno, ast.unparse(node), alias.name)
        elif isinstance(node, ast.ImportFrom):
            base = _resolve_from(source, node)
            for alias in node.names:
                module = base if alias.name == "*" else f"{base}.{alias.name}"
                yield Imported(source, node.lineno, ast.unparse(node), module)


def dynamic_imports(source: Source) -> Iterator[tuple[int, str]]:
    """Calls that import by string (`import_module`, `__import__`, `apps.get_model`)."""
    for node in ast.walk(source.tree):
        if isinstance(node, ast.Call):
            func = node.func
            name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", None)
            if name in DYNAMIC_IMPORTS:
                yield node.lineno, ast.unparse(node)


def _top(module: str) -> str:
    return module.split(".", 1)[0]


def _within(module: str, package: str) -> bool:
    return module == package or module.startswith(package + ".")


def _is_stdlib(module: str) -> bool:
    return _top(module) in sys.stdlib_module_names


def _app_of(source: Source) -> str | None:
    return source.parts[1] if len(source.parts) > 2 and source.parts[0] == "daisy" else None


def _is_tests(source: Source) -> bool:
    return "tests" in source.parts


def _models_app(module: str) -> str | None:
    """`daisy.<app>.models[...]` -> app."""
    parts = module.split(".")
    if len(parts) >= 3 and parts[0] == "daisy" and parts[2] == "models":
        return parts[1]
    return None


# --- the rules: each takes one parsed file and returns its violations as messages -----------


def core_import_violations(source: Source) -> list[str]:
    if not _within(source.module, "daisy.core"):
        return []
    extra = CORE_TEST_LIBRARIES if _is_tests(source) else frozenset()
    out = [
        f"{imp} - daisy/core may import only the standard library and daisy.core"
        + (" (and, in its tests, pytest and hypothesis)" if extra else "")
        for imp in imports(source)
        if not (
            _is_stdlib(imp.module) or _within(imp.module, "daisy.core") or _top(imp.module) in extra
        )
    ]
    out += [
        f"{source.path}:{lineno}: {call!r} - daisy/core imports nothing by name at run time"
        for lineno, call in dynamic_imports(source)
    ]
    return out


def _aliases(source: Source) -> dict[str, str]:
    """Local name -> the dotted name it stands for, from the file's imports."""
    names: dict[str, str] = {}
    for node in ast.walk(source.tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.asname:
                    names[alias.asname] = alias.name
                else:
                    top = _top(alias.name)
                    names[top] = top
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            for alias in node.names:
                names[alias.asname or alias.name] = f"{node.module}.{alias.name}"
    return names


def _dotted(node: ast.expr) -> list[str] | None:
    parts: list[str] = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if not isinstance(node, ast.Name):
        return None
    parts.append(node.id)
    return parts[::-1]


def core_clock_violations(source: Source) -> list[str]:
    if not _within(source.module, "daisy.core") or _is_tests(source):
        return []
    names = _aliases(source)
    out = []
    for node in ast.walk(source.tree):
        if isinstance(node, ast.Attribute | ast.Name):
            dotted = _dotted(node)
            if not dotted or dotted[0] not in names:
                continue
            resolved = ".".join([names[dotted[0]], *dotted[1:]])
            if resolved in CLOCK_READS:
                out.append(
                    f"{source.path}:{node.lineno}: {ast.unparse(node)!r} reads the clock "
                    f"({resolved}) - daisy/core takes `now` as a parameter"
                )
    return out


def _is_domain_models(source: Source) -> bool:
    app = _app_of(source)
    return (
        app is not None
        and app not in INTERFACE_APPS
        and app != "core"
        and len(source.parts) >= 3
        and source.parts[2] == "models"
    )


def models_import_violations(source: Source) -> list[str]:
    if not _is_domain_models(source):
        return []
    return [
        f"{imp} - a models module may import only django, the standard library, daisy.lib "
        "and other apps' models"
        for imp in imports(source)
        if not (
            _is_stdlib(imp.module)
            or _top(imp.module) == "django"
            or _within(imp.module, "daisy.lib")
            or _models_app(imp.module) is not None
        )
    ]


def interface_import_violations(source: Source) -> list[str]:
    app = _app_of(source)
    if app not in INTERFACE_APPS or _is_tests(source):
        return []
    out = [
        f"{imp} - interface app {app!r} must not import another app's models; use its "
        "selectors, services or forms"
        for imp in imports(source)
        if _models_app(imp.module) not in (None, app, "lib")
    ]
    out += [
        f"{source.path}:{lineno}: {call!r} - interface app {app!r} must not load models by "
        "name; use selectors, services or forms"
        for lineno, call in dynamic_imports(source)
        if not _loads_own_model(call, app)
    ]
    return out


def _loads_own_model(call: str, app: str | None) -> bool:
    """`apps.get_model('site', 'SitePage')` inside daisy/site: an interface app's data
    migration loading its own model, as Django requires; its own models are allowed anyway."""
    found = re.match(r"^[\w.]*get_model\(\s*['\"](\w+)['\"]", call)
    return found is not None and found.group(1) == app


def _app_of_module(module: str) -> str | None:
    parts = module.split(".")
    return parts[1] if len(parts) >= 2 and parts[0] == "daisy" else None


def notifications_import_violations(source: Source) -> list[str]:
    if _app_of(source) != "notifications":
        return []
    out = [
        f"{imp} - notifications must know no domain app: pass it an address, a template name "
        "and a context"
        for imp in imports(source)
        if _app_of_module(imp.module) in DOMAIN_APPS
    ]
    out += [
        f"{source.path}:{lineno}: {call!r} - notifications must know no domain app"
        for lineno, call in dynamic_imports(source)
        if any(app in call for app in DOMAIN_APPS)
    ]
    return out


def _is_private(name: str) -> bool:
    return name.startswith("_") and not name.startswith("__")


def private_import_violations(source: Source) -> list[str]:
    """Another app's `_name`, imported or reached through a module (`scheduling._rid`)."""
    app = _app_of(source)
    if app is None or _is_tests(source):
        return []
    out = []
    for imp in imports(source):
        other = _app_of_module(imp.module)
        if other is None or other == app:
            continue
        if any(_is_private(part) for part in imp.module.split(".")[2:]):
            out.append(f"{imp} - another app's private name; use its public API")
    names = _aliases(source)
    for node in ast.walk(source.tree):
        if isinstance(node, ast.Attribute) and _is_private(node.attr):
            dotted = _dotted(node.value)
            if not dotted or dotted[0] not in names:
                continue
            resolved = ".".join([names[dotted[0]], *dotted[1:]])
            other = _app_of_module(resolved)
            if other is not None and other != app:
                out.append(
                    f"{source.path}:{node.lineno}: {ast.unparse(node)!r} reaches another app's "
                    f"private name ({resolved}.{node.attr}); use its public API"
                )
    return out


def _root_name(node: ast.expr) -> str | None:
    """`Appointment.objects.filter(...).update` -> "Appointment"."""
    while True:
        if isinstance(node, ast.Attribute):
            node = node.value
        elif isinstance(node, ast.Call):
            node = node.func
        elif isinstance(node, ast.Subscript):
            node = node.value
        else:
            break
    return node.id if isinstance(node, ast.Name) else None


def scheduling_write_violations(source: Source) -> list[str]:
    app = _app_of(source)
    if app is None or app == "scheduling" or _is_tests(source) or "migrations" in source.parts:
        return []
    names = _aliases(source)
    tables = {
        local
        for local, dotted in names.items()
        if dotted.startswith("daisy.scheduling.models.")
        and dotted.rsplit(".", 1)[1] in SCHEDULING_TABLES
    }
    out = []
    for node in ast.walk(source.tree):
        if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)):
            continue
        if node.func.attr in WRITE_METHODS and _root_name(node.func.value) in tables:
            out.append(
                f"{source.path}:{node.lineno}: {ast.unparse(node.func)} writes a scheduling "
                "table - only daisy.scheduling writes appointments, allocations and holds; "
                "call its services"
            )
    return out


def scheduling_layer_violations(source: Source) -> list[str]:
    if _app_of(source) != "scheduling" or _is_tests(source):
        return []
    out = [
        f"{imp} - scheduling imports nothing above it; compose in daisy.booking instead"
        for imp in imports(source)
        if any(_within(imp.module, above) for above in ABOVE_SCHEDULING)
    ]
    out += [
        f"{source.path}:{lineno}: {call!r} - scheduling imports nothing above it"
        for lineno, call in dynamic_imports(source)
        if any(above.split(".")[1] in call for above in ABOVE_SCHEDULING)
    ]
    return out


def _dynamic_target(node: ast.Call) -> str | None:
    """The module a by-name import names: `import_module('daisy.records.services')` ->
    "daisy.records.services", `apps.get_model('records', 'X')` or `get_model('records.X')` ->
    "daisy.records"; None when the name is not written out in the call."""
    func = node.func
    name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", None)
    if name not in DYNAMIC_IMPORTS or not node.args:
        return None
    first = node.args[0]
    if not (isinstance(first, ast.Constant) and isinstance(first.value, str)):
        return None
    if name == "get_model":
        return "daisy." + first.value.split(".", 1)[0]
    return first.value


def layer_violations(source: Source) -> list[str]:
    app = _app_of(source)
    if app not in LAYERS or _is_tests(source) or "migrations" in source.parts:
        return []
    own = LAYERS[app]
    found = [(imp.module, str(imp)) for imp in imports(source)]
    for node in ast.walk(source.tree):
        target = _dynamic_target(node) if isinstance(node, ast.Call) else None
        if target is not None:
            found.append((target, f"{source.path}:{node.lineno}: {ast.unparse(node)!r}"))
    out = []
    for module, where in found:
        other = _app_of_module(module)
        if _top(module) != "daisy" or other is None or other == app:
            continue
        if other not in LAYERS:
            out.append(
                f"{where} - {app!r} (layer {own}) imports {module}, which sits above every "
                "layer (like settings and urls); move what it needs into a layer, or the "
                "caller up beside it"
            )
        elif LAYERS[other] > own:
            out.append(
                f"{where} - {app!r} (layer {own}) imports {other!r} (layer {LAYERS[other]}); "
                "an app imports only its own layer and below: compose it in the higher layer"
            )
    return out


RULES: dict[str, Callable[[Source], list[str]]] = {
    "core imports only the standard library": core_import_violations,
    "core never reads the clock": core_clock_violations,
    "models import only django, lib and models": models_import_violations,
    "interface apps never import domain models": interface_import_violations,
    "notifications imports no domain app": notifications_import_violations,
    "no app imports another app's private names": private_import_violations,
    "only scheduling writes appointments, allocations and holds": scheduling_write_violations,
    "scheduling imports neither courses, aftercare nor booking": scheduling_layer_violations,
    "an app imports only its own layer and below": layer_violations,
}


# --- the tree obeys the rules ------------------------------------------------------------------


def test_finds_the_source_tree() -> None:
    modules = {s.module for s in all_sources()}
    # If the walk found nothing, every rule below would pass vacuously.
    assert {"daisy.clinic.models", "daisy.scheduling.models", "daisy.site.views"} <= modules


def test_every_app_has_a_layer() -> None:
    """Rule 9 holds only for the apps it knows: a new app must be given a layer (or put above
    them all) before it can import anything."""
    apps = {s.parts[1] for s in all_sources() if len(s.parts) > 2}
    assert apps - LAYERS.keys() - ABOVE_LAYERS == set(), "give the app a layer in LAYERS"
    assert {"core", "booking", "site"} <= apps


@pytest.mark.parametrize("rule", RULES)
def test_tree_obeys(rule: str) -> None:
    violations = [v for s in all_sources() for v in RULES[rule](s)]
    assert not violations, f"DESIGN.md 3, {rule}:\n" + "\n".join(violations)


# --- the checker catches what it should (so a green run above means something) ----------------


def check(rule: str, path: str, text: str) -> list[str]:
    return RULES[rule](parse(REPO_DIR / path, text))


@pytest.mark.parametrize(
    "text",
    [
        "import django",
        "from django.utils import timezone",
        "from daisy.lib.errors import DomainError",
        "from daisy import clinic",
        "import phonenumbers",
        "from ..clinic import models",
    ],
)
def test_core_rejects_non_stdlib_import(text: str) -> None:
    assert check("core imports only the standard library", "daisy/core/slots.py", text)


@pytest.mark.parametrize(
    "text",
    [
        "from __future__ import annotations",
        "from datetime import UTC, datetime",
        "import zoneinfo",
        "from daisy.core.intervals import Interval",
        "from . import intervals",
        "from .intervals import Interval",
    ],
)
def test_core_accepts_stdlib_and_itself(text: str) -> None:
    assert not check("core imports only the standard library", "daisy/core/slots.py", text)


def test_core_tests_may_use_pytest_but_not_django() -> None:
    rule = "core imports only the standard library"
    assert not check(rule, "daisy/core/tests/test_x.py", "import pytest\nimport hypothesis")
    assert check(rule, "daisy/core/tests/test_x.py", "from django.test import TestCase")


def test_core_rejects_dynamic_import() -> None:
    text = "import importlib\nimportlib.import_module('django')"
    assert check("core imports only the standard library", "daisy/core/slots.py", text)


@pytest.mark.parametrize(
    "text",
    [
        "from datetime import datetime\nx = datetime.now()",
        "from datetime import datetime\nx = datetime.now(UTC)",
        "import datetime\nx = datetime.datetime.utcnow()",
        "import datetime as dt\nx = dt.date.today()",
        "from datetime import date as D\nx = D.today()",
        "import time\nx = time.time()",
        "import time as clock\nx = clock.monotonic()",
        "from time import monotonic\nx = monotonic()",
        "from datetime import datetime\ndef f(now=datetime.now):\n    return now()",
    ],
)
def test_core_rejects_clock_reads(text: str) -> None:
    assert check("core never reads the clock", "daisy/core/slots.py", text)


@pytest.mark.parametrize(
    "text",
    [
        # `time` here is datetime.time, not the time module.
        "from datetime import time\nx = time(9, 30)",
        "from datetime import datetime\nx = datetime.fromisoformat('2030-01-07T09:00')",
        "def f(now):\n    return now.date()",
    ],
)
def test_core_accepts_time_as_data(text: str) -> None:
    assert not check("core never reads the clock", "daisy/core/slots.py", text)


@pytest.mark.parametrize(
    "text",
    [
        "from django.db import models",
        "from django.conf import settings",
        "import uuid",
        "from daisy.lib.models import PublicModel",
        "from daisy.clinic.models import Location",
        "from daisy.clinic import models as clinic_models",
    ],
)
def test_models_accept_django_lib_and_models(text: str) -> None:
    assert not check(
        "models import only django, lib and models", "daisy/scheduling/models.py", text
    )


@pytest.mark.parametrize(
    "text",
    [
        "from daisy.clinic.selectors import location_list_with_hours",
        "from daisy.scheduling.services import appointment_book",
        "from daisy.core.intervals import Interval",
        "import phonenumbers",
    ],
)
def test_models_reject_other_imports(text: str) -> None:
    assert check("models import only django, lib and models", "daisy/scheduling/models.py", text)


def test_models_rule_covers_a_models_package() -> None:
    text = "from daisy.clinic.services import x"
    rule = "models import only django, lib and models"
    assert check(rule, "daisy/scheduling/models/appointments.py", text)


@pytest.mark.parametrize(
    "text",
    [
        "from daisy.clinic.models import Location",
        "from daisy.clinic import models",
        "import daisy.scheduling.models",
        "from daisy.scheduling.models import Status",
        "from django.apps import apps\nM = apps.get_model('clinic', 'Location')",
    ],
)
def test_interface_app_rejects_domain_models(text: str) -> None:
    rule = "interface apps never import domain models"
    assert check(rule, "daisy/portal/views.py", text)
    assert check(rule, "daisy/api/endpoints/appointments.py", text)


@pytest.mark.parametrize(
    "text",
    [
        "from daisy.clinic.selectors import location_list_with_hours",
        "from daisy.scheduling.services import appointment_book",
        "from daisy.scheduling.forms import BookingForm",
        "from daisy.lib.errors import DomainError",
        "from daisy.lib.models import PublicModel",
        "from daisy.api.models import ApiToken",
        "from .models import ApiToken",
    ],
)
def test_interface_app_accepts_services_selectors_forms(text: str) -> None:
    assert not check("interface apps never import domain models", "daisy/api/views.py", text)


def test_interface_app_may_load_its_own_models_by_name() -> None:
    rule = "interface apps never import domain models"
    own = "def f(apps, schema_editor):\n    P = apps.get_model('site', 'SitePage')"
    other = "def f(apps, schema_editor):\n    L = apps.get_model('clinic', 'Location')"
    assert not check(rule, "daisy/site/migrations/0002_seed.py", own)
    assert check(rule, "daisy/site/migrations/0002_seed.py", other)


def test_interface_app_tests_may_import_models() -> None:
    text = "from daisy.scheduling.models import Appointment"
    rule = "interface apps never import domain models"
    assert not check(rule, "daisy/portal/tests/test_views.py", text)


@pytest.mark.parametrize(
    "text",
    [
        "from daisy.scheduling.models import Appointment",
        "from daisy import scheduling",
        "import daisy.scheduling.selectors",
        "from django.apps import apps\nA = apps.get_model('scheduling', 'Appointment')",
    ],
)
def test_notifications_rejects_scheduling(text: str) -> None:
    rule = "notifications imports no domain app"
    assert check(rule, "daisy/notifications/services.py", text)
    assert check(rule, "daisy/notifications/tests/test_send.py", text)


@pytest.mark.parametrize(
    "text",
    [
        "from daisy.clients.models import Client",
        "from daisy.courses import selectors",
        "import daisy.booking.services",
        "from daisy.aftercare.services import appointment_messages_schedule",
    ],
)
def test_notifications_rejects_every_domain_app(text: str) -> None:
    assert check("notifications imports no domain app", "daisy/notifications/services.py", text)


def test_notifications_may_use_lib_accounts_and_audit() -> None:
    text = "from daisy.lib.errors import ValidationFailed\nfrom daisy.audit.services import x"
    assert not check("notifications imports no domain app", "daisy/notifications/x.py", text)


@pytest.mark.parametrize(
    "text",
    [
        "from daisy.scheduling.services import _lock_resources",
        "from daisy.scheduling.services._internal import lock",
        "from daisy.scheduling import selectors as s\nx = s._rid(1)",
        "import daisy.scheduling.services\ndaisy.scheduling.services._check(1)",
    ],
)
def test_rejects_another_app_s_private_names(text: str) -> None:
    rule = "no app imports another app's private names"
    assert check(rule, "daisy/courses/services/plans.py", text)


@pytest.mark.parametrize(
    "text",
    [
        "from daisy.courses.services.proposals import _private_helper",
        "from daisy.scheduling.selectors import resource_key",
        "from daisy.scheduling import selectors\nx = selectors.__name__",
    ],
)
def test_accepts_own_private_names_and_public_ones(text: str) -> None:
    rule = "no app imports another app's private names"
    assert not check(rule, "daisy/courses/services/replan.py", text)


@pytest.mark.parametrize(
    "text",
    [
        "from daisy.scheduling.models import Appointment\nAppointment.objects.create(x=1)",
        "from daisy.scheduling.models import Allocation\n"
        "Allocation.objects.filter(a=1).update(is_active=False)",
        "from daisy.scheduling.models import Allocation as A\nA.objects.bulk_create([])",
        "from daisy.scheduling.models import SlotHold\nSlotHold.objects.filter(x=1).delete()",
        "from daisy.scheduling.models import Appointment\nAppointment(x=1).save()",
    ],
)
def test_rejects_writes_to_scheduling_tables_outside_scheduling(text: str) -> None:
    rule = "only scheduling writes appointments, allocations and holds"
    assert check(rule, "daisy/courses/services/plans.py", text)
    assert not check(rule, "daisy/scheduling/services/appointments.py", text)
    assert not check(rule, "daisy/courses/tests/test_plans.py", text)


def test_accepts_reads_of_scheduling_tables() -> None:
    text = (
        "from daisy.scheduling.models import Appointment\n"
        "Appointment.objects.filter(x=1).select_for_update().order_by('pk')"
    )
    rule = "only scheduling writes appointments, allocations and holds"
    assert not check(rule, "daisy/courses/services/plans.py", text)


@pytest.mark.parametrize(
    "text",
    [
        "from daisy.courses.selectors import important_date_clashes",
        "from daisy.aftercare.services import appointment_messages_schedule",
        "def f():\n    from daisy.courses.services import course_followers",
        "from daisy.booking.eligibility import Asking",
    ],
)
def test_scheduling_rejects_imports_from_above(text: str) -> None:
    rule = "scheduling imports neither courses, aftercare nor booking"
    assert check(rule, "daisy/scheduling/services/appointments.py", text)


@pytest.mark.parametrize(
    ("path", "text"),
    [
        (
            "daisy/treatments/services.py",
            "from daisy.aftercare.services import protocol_presets_install",
        ),
        ("daisy/treatments/services.py", "from ..records import consent_services"),
        ("daisy/accounts/services.py", "from daisy.clients.models import Client"),
        ("daisy/accounts/selectors.py", "from daisy.scheduling.selectors import appointment_list"),
        ("daisy/clinic/seed.py", "from daisy.booking import services"),
        ("daisy/clients/services.py", "import daisy.scheduling.selectors"),
        ("daisy/lib/time.py", "from daisy.accounts.models import User"),
        ("daisy/scheduling/selectors.py", "def f():\n    from daisy.records import services"),
        ("daisy/booking/services.py", "from daisy.portal.views import home"),
        ("daisy/courses/selectors.py", "from daisy.api.schemas import Course"),
        # Above the layers: the demo, settings, urls.
        ("daisy/clinic/management/commands/seed_demo.py", "from daisy.demo.seed import demo_seed"),
        ("daisy/site/views.py", "from daisy import urls"),
        ("daisy/lib/time.py", "from daisy.settings import TIME_ZONE"),
        # By name.
        (
            "daisy/clients/services.py",
            "from django.apps import apps\nA = apps.get_model('scheduling', 'Appointment')",
        ),
        (
            "daisy/clients/services.py",
            "from django.apps import apps\nA = apps.get_model('records.X')",
        ),
        (
            "daisy/treatments/services.py",
            "import importlib\nm = importlib.import_module('daisy.aftercare.services')",
        ),
    ],
)
def test_rejects_imports_from_a_higher_layer(path: str, text: str) -> None:
    assert check("an app imports only its own layer and below", path, text)


@pytest.mark.parametrize(
    ("path", "text"),
    [
        # The same layer, and below.
        ("daisy/records/export.py", "from daisy.courses.selectors import course_list_for_client"),
        ("daisy/booking/services.py", "from daisy.scheduling import services"),
        ("daisy/clients/services.py", "from daisy.accounts.models import User"),
        ("daisy/clinic/models.py", "from daisy.lib.models import PublicModel"),
        ("daisy/portal/views.py", "from daisy.booking.services import appointment_cancel"),
        ("daisy/api/endpoints/appointments.py", "from daisy.site.booking import x"),
        ("daisy/courses/services/plans.py", "from ..selectors import plan_get"),
        # Not daisy: the standard library, Django, other libraries.
        ("daisy/lib/time.py", "import datetime\nfrom django.utils import timezone"),
        ("daisy/lib/management/commands/bench.py", "import daisy"),
        # A by-name load of its own layer, and one whose name is not written out.
        (
            "daisy/records/services.py",
            "from django.apps import apps\nA = apps.get_model('courses', 'C')",
        ),
        ("daisy/audit/selectors.py", "from django.apps import apps\nM = apps.get_model(name)"),
        # Outside the layers: anything.
        ("daisy/urls.py", "from daisy.portal import urls\nfrom daisy.api.api import api"),
        ("daisy/settings.py", "from daisy.env import env_str"),
        ("daisy/demo/seed.py", "from daisy.booking import services\nfrom daisy.records import x"),
        # Tests and migrations: anything.
        ("daisy/accounts/tests/test_x.py", "from daisy.clients.models import Client"),
        ("daisy/clinic/tests/test_demo.py", "from daisy.demo.seed import demo_seed"),
        ("daisy/clinic/migrations/0009_x.py", "from daisy.records.defaults import TABLE"),
    ],
)
def test_accepts_imports_from_its_own_layer_and_below(path: str, text: str) -> None:
    assert not check("an app imports only its own layer and below", path, text)


def test_layer_failure_names_both_layers() -> None:
    [message] = check(
        "an app imports only its own layer and below",
        "daisy/accounts/services.py",
        "from daisy.clients.models import Client",
    )
    assert message.startswith("daisy/accounts/services.py:1: ")
    assert "'accounts' (layer 2) imports 'clients' (layer 3)" in message


def test_a_deliberately_broken_tree_fails_every_new_rule() -> None:
    """The self-test the issue asks for: one file breaking each new rule is caught by it."""
    broken = {
        "notifications imports no domain app": (
            "daisy/notifications/services.py",
            "from daisy.clients.models import Client",
        ),
        "no app imports another app's private names": (
            "daisy/courses/services/replan.py",
            "from daisy.scheduling.services.reserve import _resource_pk",
        ),
        "only scheduling writes appointments, allocations and holds": (
            "daisy/courses/services/replan.py",
            "from daisy.scheduling.models import Allocation\n"
            "Allocation.objects.filter(appointment=1).update(is_active=False)",
        ),
        "scheduling imports neither courses, aftercare nor booking": (
            "daisy/scheduling/services/appointments.py",
            "from daisy.courses.services import course_followers",
        ),
        "an app imports only its own layer and below": (
            "daisy/treatments/services.py",
            "from daisy.aftercare.services import protocol_presets_install",
        ),
    }
    for rule, (path, text) in broken.items():
        assert check(rule, path, text), rule


def test_failure_message_names_file_line_and_import() -> None:
    [message] = check(
        "interface apps never import domain models",
        "daisy/portal/views.py",
        "import os\nfrom daisy.clinic.models import Location",
    )
    assert message.startswith("daisy/portal/views.py:2: 'from daisy.clinic.models import Location'")
