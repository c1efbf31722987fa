"""Times as people read them: the reader's zone (preference, browser cookie, UTC), named."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.test import Client

from accounts.models import Preference
from tests.triggers.helpers import T0, save, schedule_flow
from triggers.clock import clock_tick

pytestmark = pytest.mark.django_db

PARIS_AT_NINE = """
    timezone: Europe/Paris
"""


def body_zone(html: str) -> str:
    found = re.search(r'<body[^>]* data-time-zone="([^"]*)"', html)
    assert found, "no data-time-zone on <body>"
    return found.group(1)


def test_a_reader_with_no_preference_and_no_cookie_reads_utc(client: Client, alice: Any) -> None:
    client.force_login(alice)
    assert body_zone(client.get("/namespaces/").content.decode()) == "UTC"


def test_the_browser_s_zone_from_the_cookie_is_used(client: Client, alice: Any) -> None:
    client.force_login(alice)
    client.cookies["flowsite_tz"] = "America/New_York"
    assert body_zone(client.get("/namespaces/").content.decode()) == "America/New_York"


@pytest.mark.parametrize("garbage", ["Mars/Olympus", "../../etc/passwd", "", "<script>", "x" * 500])
def test_a_garbage_cookie_falls_back_to_utc(client: Client, alice: Any, garbage: str) -> None:
    client.force_login(alice)
    client.cookies["flowsite_tz"] = garbage
    response = client.get("/namespaces/")
    assert response.status_code == 200 and body_zone(response.content.decode()) == "UTC"


def test_the_preference_wins_over_the_browser_s_zone(client: Client, alice: Any) -> None:
    Preference.objects.create(user=alice, time_zone="Asia/Tokyo")
    client.force_login(alice)
    client.cookies["flowsite_tz"] = "Europe/Paris"
    assert body_zone(client.get("/namespaces/").content.decode()) == "Asia/Tokyo"


def test_saving_preferences_applies_them_on_the_next_page(client: Client, alice: Any) -> None:
    client.force_login(alice)
    client.cookies["flowsite_tz"] = "Europe/Paris"
    page = client.get("/preferences/").content.decode()
    assert "Browser default (Europe/Paris)" in page and 'value="Asia/Tokyo"' in page

    response = client.post("/preferences/", {"time_zone": "Asia/Tokyo", "theme": "dark"})
    assert response.status_code == 302
    page = client.get("/namespaces/").content.decode()
    assert body_zone(page) == "Asia/Tokyo" and '<html lang="en" data-theme="dark">' in page

    client.post("/preferences/", {"time_zone": "", "theme": ""})
    page = client.get("/namespaces/").content.decode()
    assert body_zone(page) == "Europe/Paris" and "data-theme" not in page.split(">")[1]


def test_an_unknown_zone_or_theme_is_a_form_error_not_a_500(client: Client, alice: Any) -> None:
    client.force_login(alice)
    response = client.post("/preferences/", {"time_zone": "Mars/Olympus", "theme": "neon"})
    assert response.status_code == 422
    assert response.content.decode().count('role="alert"') == 2
    assert not Preference.objects.filter(user=alice).exists()


def test_one_user_s_preference_never_reaches_another_s_pages(
    client: Client, alice: Any, bob: Any
) -> None:
    Preference.objects.create(user=alice, time_zone="Asia/Tokyo", theme="dark")
    client.force_login(alice)
    client.get("/namespaces/")
    client.force_login(bob)
    page = client.get("/namespaces/").content.decode()
    assert body_zone(page) == "UTC" and "data-theme" not in page.split(">")[1]


def test_the_preferences_page_needs_a_login(client: Client) -> None:
    assert client.get("/preferences/").status_code == 302


def next_date_cell(client: Client) -> str:
    html = client.get("/flows/dev/scheduled/triggers/").content.decode()
    cell = re.search(
        r'data-trigger="every".*?<td>.*?</td>.*?</td>.*?</td>\s*<td>(.*?)</td>', html, re.S
    )
    assert cell, html
    return cell.group(1)


def test_a_paris_schedule_at_nine_shows_as_nine_cet_to_a_paris_reader_and_eight_utc_otherwise(
    client: Client, alice: Any
) -> None:
    save(schedule_flow("0 9 * * *", extra=PARIS_AT_NINE))
    clock_tick(T0)  # 2030-01-01 10:05 UTC: the next slot is 2030-01-02 09:00 in Paris
    client.force_login(alice)

    assert '2030-01-02 08:00:00 <span class="tz">UTC</span>' in next_date_cell(client)
    client.cookies["flowsite_tz"] = "Europe/Paris"
    paris = next_date_cell(client)
    assert '2030-01-02 09:00:00 <span class="tz">CET</span>' in paris
    assert 'datetime="2030-01-02T08:00:00+00:00" title="Europe/Paris"' in paris


def test_a_change_made_in_another_browser_shows_within_a_minute(client: Client, alice: Any) -> None:
    from accounts.reader import RECHECK_SECONDS, SESSION_KEY

    client.force_login(alice)
    assert body_zone(client.get("/namespaces/").content.decode()) == "UTC"
    Preference.objects.create(user=alice, time_zone="Asia/Tokyo")  # saved elsewhere
    assert body_zone(client.get("/namespaces/").content.decode()) == "UTC"  # the session's copy

    session = client.session
    session[SESSION_KEY] = {
        **session[SESSION_KEY],
        "at": session[SESSION_KEY]["at"] - RECHECK_SECONDS,
    }
    session.save()
    assert body_zone(client.get("/namespaces/").content.decode()) == "Asia/Tokyo"
