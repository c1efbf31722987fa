"""Logging in: the login page, password change, and the throttle on failed logins.

Failed logins are counted in the cache per username and per client address, by the
login page and the REST API's HTTP Basic auth alike. After FLOWSITE_LOGIN_SLOW_AFTER
failures each attempt waits; after FLOWSITE_LOGIN_LOCK_AFTER the username (or the
address) is refused for FLOWSITE_LOGIN_LOCK_MINUTES, even with the right password.
"""

from __future__ import annotations

import hashlib
import hmac
import math
import time
from typing import Any

from django.conf import settings
from django.contrib.auth import authenticate
from django.contrib.auth import views as auth_views
from django.contrib.auth.forms import AuthenticationForm
from django.contrib.auth.models import User
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse

from accounts.first_password import first_password_forget_if_changed


class LoginRefused(Exception):
    """Too many failed logins: refused without looking at the password."""

    def __init__(self, message: str, *, seconds: int):
        super().__init__(message)
        self.seconds = seconds


def client_address(request: HttpRequest) -> str:
    """The address failures are counted against. Behind a reverse proxy every request
    comes from the proxy, so FLOWSITE_CLIENT_IP_HEADER names the header it sets; its
    last entry is the address the proxy itself saw, which a client cannot forge as long
    as every request goes through the proxy."""
    if header := settings.FLOWSITE_CLIENT_IP_HEADER:
        forwarded = request.headers.get(header, "").split(",")[-1].strip()
        if forwarded:
            return forwarded
    address: str = request.META.get("REMOTE_ADDR", "")
    return address


def _subjects(request: HttpRequest, username: str) -> dict[str, str]:
    # Hashed: usernames may hold characters a cache key may not.
    user_key = hashlib.sha256(username.lower().encode()).hexdigest()[:32]
    return {
        "this account": f"login:user:{user_key}",
        "your address": f"login:ip:{client_address(request)}",
    }


def _refusal(subject: str, until: float) -> LoginRefused:
    seconds = max(1, math.ceil(until - time.time()))
    minutes = math.ceil(seconds / 60)
    return LoginRefused(
        f"Too many failed logins for {subject}; "
        f"try again in {minutes} minute{'s' if minutes != 1 else ''}",
        seconds=seconds,
    )


def _count_failure(key: str) -> float | None:
    """Count one failure; when it is one too many, lock ``key`` and return until when."""
    window = settings.FLOWSITE_LOGIN_LOCK_MINUTES * 60
    cache.add(f"{key}:failures", 0, timeout=window)
    try:
        failures = cache.incr(f"{key}:failures")
    except ValueError:  # expired between add() and incr()
        cache.set(f"{key}:failures", failures := 1, timeout=window)
    # Failures are forgotten a lock's length after the last one, not after the first.
    cache.touch(f"{key}:failures", window)
    if failures < settings.FLOWSITE_LOGIN_LOCK_AFTER:
        return None
    cache.set(f"{key}:locked", until := time.time() + window, timeout=window)
    cache.delete(f"{key}:failures")
    return until


def _raise_if_locked(subjects: dict[str, str]) -> None:
    for subject, key in subjects.items():
        if until := cache.get(f"{key}:locked"):
            raise _refusal(subject, until)


def authenticate_throttled(request: HttpRequest, *, username: str, password: str) -> User | None:
    """``authenticate()`` behind the throttle: the user, or None when the credentials
    are wrong. Raises LoginRefused while the username or the address is locked."""
    subjects = _subjects(request, username)
    _raise_if_locked(subjects)
    failures = max(cache.get(f"{key}:failures", 0) for key in subjects.values())
    if failures >= settings.FLOWSITE_LOGIN_SLOW_AFTER:
        # Before the password is checked, so a guesser cannot hang up early to learn
        # the answer. A short fixed wait: it holds one of the server's threads.
        time.sleep(settings.FLOWSITE_LOGIN_SLOW_SECONDS)
    user = authenticate(request, username=username, password=password)
    # User is the one user model (AUTH_USER_MODEL is not swapped): this only narrows the type.
    if isinstance(user, User):
        cache.delete(f"{subjects['this account']}:failures")
        return user
    refusals = [
        _refusal(subject, until)
        for subject, key in subjects.items()
        if (until := _count_failure(key)) is not None
    ]
    if refusals:
        raise refusals[0]
    return None


def _keyed(text: str) -> str:
    """A digest only this installation can compute: the cache never holds a credential or
    a password hash, nor anything a reader of the cache could test guesses against."""
    return hmac.new(settings.SECRET_KEY.encode(), text.encode(), hashlib.sha256).hexdigest()


def authenticate_basic(
    request: HttpRequest, *, header: str, username: str, password: str
) -> User | None:
    """``authenticate_throttled()`` for an HTTP Basic ``header``, remembered for
    FLOWSITE_BASIC_AUTH_CACHE_SECONDS once verified: a client that polls with Basic auth
    costs the password hash (a quarter of a second of CPU) once, not on every request.

    A remembered header holds only while the user is active and its password unchanged:
    the entry carries a digest of the password hash, checked against the user row read
    anyway, so a password change or a deactivation refuses the very next request. Locks
    hold as before, even for a remembered header; failures are never remembered."""
    seconds = settings.FLOWSITE_BASIC_AUTH_CACHE_SECONDS
    if seconds <= 0:
        return authenticate_throttled(request, username=username, password=password)
    key = f"basic:{_keyed(header)}"
    if remembered := cache.get(key):
        user_id, fingerprint = remembered
        _raise_if_locked(_subjects(request, username))
        user = User.objects.filter(pk=user_id, username=username, is_active=True).first()
        if user is not None and hmac.compare_digest(fingerprint, _keyed(user.password)):
            return user
        cache.delete(key)
    user = authenticate_throttled(request, username=username, password=password)
    if user is not None and user.is_active:
        cache.set(key, (user.pk, _keyed(user.password)), timeout=seconds)
    return user


class ThrottledAuthenticationForm(AuthenticationForm):
    error_messages = {
        **AuthenticationForm.error_messages,
        "invalid_login": "Your username and password didn't match. Please try again.",
    }

    def clean(self) -> dict[str, Any]:
        username = self.cleaned_data.get("username")
        password = self.cleaned_data.get("password")
        if username is not None and password:
            # LoginView always hands the form its request: failures are counted by address.
            assert self.request is not None
            try:
                self.user_cache = authenticate_throttled(
                    self.request, username=username, password=password
                )
            except LoginRefused as exc:
                raise ValidationError(str(exc), code="throttled") from None
            if self.user_cache is None:
                raise self.get_invalid_login_error()
            self.confirm_login_allowed(self.user_cache)
        return self.cleaned_data


login = auth_views.LoginView.as_view(authentication_form=ThrottledAuthenticationForm)
logout = auth_views.LogoutView.as_view()
# Django's views keep the session of the browser that changed the password and end
# every other one (the session hash covers the password).


class PasswordChange(auth_views.PasswordChangeView):
    def form_valid(self, form: Any) -> HttpResponse:
        response = super().form_valid(form)
        first_password_forget_if_changed()
        return response


password_change = PasswordChange.as_view()
password_change_done = auth_views.PasswordChangeDoneView.as_view()
