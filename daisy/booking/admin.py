"""The back-office's merge of two client records of one person (issue 11): an action on the
Client list. It lives here, not in daisy/clients/admin.py, because merging composes every app
that keeps rows about a client (daisy.booking.merge), which the clients app sits below."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.db.models import Count, QuerySet
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from daisy.booking.merge import REASON_MAX, client_merge, client_merge_allowed
from daisy.clients.admin import ClientAdmin
from daisy.clients.models import Client
from daisy.lib.errors import DomainError


class MergeForm(forms.Form):
    keep = forms.ChoiceField(label=_("Record to keep"), widget=forms.RadioSelect)
    reason = forms.CharField(
        label=_("Why these are the same person"),
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=REASON_MAX,
    )
    confirm = forms.BooleanField(
        label=_(
            "I have checked that both records are the same person. Everything on the other "
            "record moves to the one kept, and the other record is retired."
        )
    )

    def __init__(self, *args: Any, clients: list[Client], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["keep"].choices = [
            (str(c.pk), f"{c.full_name} ({c.email or c.phone or c.pk})") for c in clients
        ]


admin.site.unregister(Client)


@admin.register(Client)
class ClientWithMergeAdmin(ClientAdmin):
    actions = ("merge_clients",)

    def has_merge_permission(self, request: HttpRequest) -> bool:
        return client_merge_allowed(request.user)

    @admin.action(description=_("Merge two records of the same person"), permissions=["merge"])
    def merge_clients(self, request: HttpRequest, queryset: QuerySet[Client]) -> Any:
        clients = list(queryset.filter(merged_into__isnull=True).order_by("created_at", "id"))
        if len(clients) != 2:
            self.message_user(
                request, _("Choose exactly two records in use to merge."), messages.WARNING
            )
            return None
        form = MergeForm(request.POST if "apply" in request.POST else None, clients=clients)
        if form.is_bound and form.is_valid():
            keep = next(c for c in clients if str(c.pk) == form.cleaned_data["keep"])
            merge = next(c for c in clients if c.pk != keep.pk)
            try:
                client_merge(
                    keep=keep,
                    merge=merge,
                    by=request.user,
                    reason=form.cleaned_data["reason"],
                    now=timezone.now(),
                )
            except DomainError as exc:
                form.add_error(None, exc.message)
            else:
                self.message_user(
                    request,
                    _("%(merged)s was merged into %(kept)s; the other record is retired.")
                    % {"merged": merge.full_name, "kept": keep.full_name},
                    messages.SUCCESS,
                )
                return None
        return self._merge_page(request, form, clients)

    def _merge_page(
        self, request: HttpRequest, form: MergeForm, clients: list[Client]
    ) -> HttpResponse:
        counted = {
            c.pk: c
            for c in Client.objects.filter(pk__in=[c.pk for c in clients]).annotate(
                n_appointments=Count("appointments", distinct=True),
                n_findings=Count("contraindications", distinct=True),
                n_plans=Count("plans", distinct=True),
                n_messages=Count("messages", distinct=True),
            )
        }
        context = {
            **self.admin_site.each_context(request),
            "title": _("Merge two records of the same person"),
            "opts": self.opts,
            "form": form,
            "records": [counted[c.pk] for c in clients],
            "action_checkbox_name": ACTION_CHECKBOX_NAME,
            "action": "merge_clients",
        }
        return TemplateResponse(request, "admin/clients/client/merge.html", context)
