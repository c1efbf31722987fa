"""The Preferences page: the reader's time zone and colour theme."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from flowsite.http import SignedInRequest

from .models import Preference
from .reader import known_zones, reading_of, remember


class PreferenceForm(forms.ModelForm[Preference]):
    class Meta:
        model = Preference
        fields = ["time_zone", "theme"]
        labels = {"theme": "Colours"}

    def __init__(self, *args: object, browser_zone: str = "", **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        detected = browser_zone or "not known yet"
        # A select of the zones the server knows: an unknown one is refused as a form error.
        self.fields["time_zone"] = forms.ChoiceField(
            label="Time zone",
            required=False,
            choices=[("", f"Browser default ({detected})")]
            + [(zone, zone) for zone in sorted(known_zones())],
            help_text="Every time on the pages is shown in this zone, with its name.",
        )
        self.fields["theme"].widget = forms.RadioSelect(choices=Preference.THEMES)
        self.fields["theme"].help_text = "System follows your system's light or dark setting."


@login_required
@require_http_methods(["GET", "POST"])
def preferences(request: SignedInRequest) -> HttpResponse:
    preference = Preference.objects.filter(user=request.user).first() or Preference(
        user=request.user
    )
    form = PreferenceForm(
        request.POST or None, instance=preference, browser_zone=reading_of(request).browser_zone
    )
    if request.method == "POST":
        if form.is_valid():
            remember(request, form.save())
            messages.success(request, "Preferences saved.")
            return redirect("preferences")
        return render(request, "accounts/preferences.html", {"form": form}, status=422)
    return render(request, "accounts/preferences.html", {"form": form})
