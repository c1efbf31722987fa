"""Forms of the access, team and user pages."""

from __future__ import annotations

import re
from typing import Any

from django import forms
from django.contrib.auth import get_user_model
from django.contrib.auth.forms import UserCreationForm
from django.contrib.auth.models import User
from django.http import QueryDict

from flows.language.values import NAMESPACE_PATTERN

from .models import Role, RoleBinding, Team
from .permissions import covers


class GrantForm(forms.Form):
    """A role for one user or one team on the page's namespace or a child of it."""

    kind = forms.ChoiceField(choices=[("user", "User"), ("team", "Team")], label="Grant to")
    name = forms.CharField(max_length=150, label="User or team name")
    role = forms.TypedChoiceField(choices=Role.choices, coerce=int, label="Role")
    namespace = forms.CharField(max_length=150, label="On namespace")

    def __init__(self, data: QueryDict | None = None, *, page_namespace: str) -> None:
        super().__init__(data, initial={"namespace": page_namespace, "role": Role.VIEWER})
        self.page_namespace = page_namespace

    def clean_namespace(self) -> str:
        namespace: str = self.cleaned_data["namespace"].strip()
        if not re.match(NAMESPACE_PATTERN, namespace):
            raise forms.ValidationError(f"{namespace!r} is not a namespace (dotted lowercase)")
        # The page's own subtree only: an Admin of company.data cannot reach company.web.
        if not covers(self.page_namespace, namespace):
            raise forms.ValidationError(
                f"Roles granted here go on {self.page_namespace} or a namespace inside it"
            )
        return namespace

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        kind, name, namespace = (
            data.get("kind"),
            data.get("name", "").strip(),
            data.get("namespace"),
        )
        if not kind or not name:
            return data
        if kind == "user":
            data["user"] = get_user_model().objects.filter(username=name).first()
            if data["user"] is None:
                self.add_error("name", f"No user is called {name}")
        else:
            data["team"] = Team.objects.filter(name=name).first()
            if data["team"] is None:
                self.add_error("name", f"No team is called {name}")
        subject = {kind: data.get(kind)}
        if (
            namespace
            and subject[kind]
            and RoleBinding.objects.filter(namespace=namespace, **subject).exists()
        ):
            self.add_error(
                None, f"{kind.title()} {name} already has a role on {namespace}: change it below"
            )
        return data

    def binding(self) -> RoleBinding:
        data = self.cleaned_data
        return RoleBinding(
            namespace=data["namespace"],
            role=data["role"],
            user=data.get("user"),
            team=data.get("team"),
        )


class RoleForm(forms.Form):
    role = forms.TypedChoiceField(choices=Role.choices, coerce=int)


class TeamForm(forms.ModelForm[Team]):
    class Meta:
        model = Team
        fields = ["name"]


class MemberForm(forms.Form):
    username = forms.CharField(max_length=150, label="Username")

    def clean_username(self) -> User:
        username = self.cleaned_data["username"].strip()
        user = get_user_model().objects.filter(username=username).first()
        if user is None:
            raise forms.ValidationError(f"No user is called {username}")
        return user


class NewUserForm(UserCreationForm[User]):
    class Meta(UserCreationForm.Meta):
        fields = ("username", "email")
