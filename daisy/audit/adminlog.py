"""Every change saved in the back-office's admin pages is in the audit trail: one mixin for the
clinic's settings (locations and opening hours, closures, time off, specialists, rooms,
devices, treatments with their protocols and prices, logins and their roles...).

`AuditedAdminMixin` records `settings.add`, `settings.change` (each changed field, from what
to what, in words) and `settings.delete`, for the object and for each row added, changed or
deleted in its inline tables, as the person signed in, in the transaction of the save. Put it
first among a ModelAdmin's bases. Health records are written through their services instead,
which audit themselves."""

from __future__ import annotations

from datetime import date, datetime, time
from decimal import Decimal
from typing import Any

from django import forms
from django.db import models, transaction
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils import timezone

from daisy.audit.services import audit_record

# Never written into the trail, only that they changed.
SECRET_FIELDS = frozenset({"password", "password1", "password2", "secret", "token", "key_hash"})


def _words(value: Any) -> Any:
    if isinstance(value, models.Model):
        return str(value)
    if isinstance(value, (QuerySet, list, tuple, set)):
        return [_words(v) for v in value]
    if isinstance(value, datetime):
        return (
            timezone.localtime(value).strftime("%Y-%m-%d %H:%M %Z")
            if timezone.is_aware(value)
            else value.strftime("%Y-%m-%d %H:%M")
        )
    if isinstance(value, (date, time, Decimal)):
        return str(value)
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    return str(value)


def _field_value(field: forms.Field, value: Any) -> Any:
    if isinstance(field, forms.ModelMultipleChoiceField):
        if isinstance(value, (list, tuple)) and value and not isinstance(value[0], models.Model):
            value = list(field.queryset.filter(pk__in=value))
        return _words(value)
    if isinstance(field, forms.ModelChoiceField):
        if value is not None and not isinstance(value, models.Model):
            value = field.queryset.filter(pk=value).first() or value
        return _words(value)
    if isinstance(field, forms.ChoiceField) and not isinstance(value, (list, tuple)):
        labels: dict[str, Any] = {}
        for key, label in field.choices:
            if isinstance(label, (list, tuple)):
                labels.update({str(k): v for k, v in label})
            else:
                labels[str(key)] = label
        return str(labels.get(str(value), value)) if value not in (None, "") else value
    return _words(value)


def form_changes(form: forms.BaseForm) -> dict[str, Any]:
    """{field: {"from": ..., "to": ...}} for each field the form changed, in words."""
    changes: dict[str, Any] = {}
    for name in form.changed_data:
        field = form.fields.get(name)
        if field is None or name not in getattr(form, "cleaned_data", {}):
            continue
        if name in SECRET_FIELDS or isinstance(field.widget, forms.PasswordInput):
            changes[name] = "changed"
            continue
        before = form.get_initial_for_field(field, name)
        after = form.cleaned_data[name]
        changes[name] = {"from": _field_value(field, before), "to": _field_value(field, after)}
    return changes


class AuditedAdminMixin:
    """See the module's docstring."""

    def _audit(self, request: HttpRequest, action: str, obj: Any, data: dict[str, Any]) -> None:
        audit_record(
            actor=request.user,
            action=action,
            obj=obj,
            at=timezone.now(),
            name=str(obj)[:300],
            data={"kind": str(obj._meta.verbose_name), **data},
        )

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        changes = form_changes(form) if change else {}
        super().save_model(request, obj, form, change)  # type: ignore[misc]
        if change and not changes:
            return
        self._audit(
            request,
            "settings.change" if change else "settings.add",
            obj,
            {"changes": changes} if change else {},
        )

    def save_formset(self, request: HttpRequest, form: Any, formset: Any, change: bool) -> None:
        deleted = [f.instance for f in getattr(formset, "deleted_forms", []) if f.instance.pk]
        deleted_names = [(f, str(f)) for f in deleted]
        edits = []
        for inline_form in formset.initial_forms:
            if inline_form in getattr(formset, "deleted_forms", []):
                continue
            if inline_form.has_changed() and inline_form.is_valid():
                edits.append((inline_form.instance, form_changes(inline_form)))
        adding = [f for f in formset.extra_forms if f.has_changed()]
        super().save_formset(request, form, formset, change)  # type: ignore[misc]
        for instance, name in deleted_names:
            audit_record(
                actor=request.user,
                action="settings.delete",
                obj=instance,
                at=timezone.now(),
                name=name[:300],
                data={"kind": str(instance._meta.verbose_name), "on": str(form.instance)},
            )
        for instance, changes in edits:
            if changes:
                self._audit(request, "settings.change", instance, {"changes": changes})
        for extra in adding:
            if extra.instance.pk is not None:
                self._audit(request, "settings.add", extra.instance, {})

    def delete_model(self, request: HttpRequest, obj: Any) -> None:
        name, pk = str(obj), obj.pk
        with transaction.atomic():
            super().delete_model(request, obj)  # type: ignore[misc]
            obj.pk = pk
            audit_record(
                actor=request.user,
                action="settings.delete",
                obj=obj,
                at=timezone.now(),
                name=name[:300],
                data={"kind": str(obj._meta.verbose_name)},
            )

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> None:
        with transaction.atomic():
            gone = [(obj.pk, str(obj), obj) for obj in queryset]
            super().delete_queryset(request, queryset)  # type: ignore[misc]
            for pk, name, obj in gone:
                obj.pk = pk
                audit_record(
                    actor=request.user,
                    action="settings.delete",
                    obj=obj,
                    at=timezone.now(),
                    name=name[:300],
                    data={"kind": str(obj._meta.verbose_name)},
                )
