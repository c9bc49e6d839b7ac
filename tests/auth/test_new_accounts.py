"""New accounts default to the organizer role (issue 16)."""

from __future__ import annotations

import re


def selected_role(page: str) -> str:
    select = re.search(r'<select[^>]*name="role"[^>]*>(.*?)</select>', page, re.S).group(1)
    return re.search(
        r'<option selected value="([^"]+)"|<option value="([^"]+)" selected', select
    ).group(0)


def test_the_add_account_form_defaults_to_organizer(client, admin):
    client.login(admin.email)
    page = client.get("/users").get_data(as_text=True)
    assert "organizer" in selected_role(page) and "admin" not in selected_role(page)


def test_a_failed_submit_without_a_role_stays_organizer(client, admin):
    client.login(admin.email)
    response = client.post("/users", {"email": "not-an-email", "password": "x"})
    assert response.status_code == 400
    assert "organizer" in selected_role(response.get_data(as_text=True))
