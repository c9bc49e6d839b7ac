def test_home_lists_nothing_yet(client):
    response = client.get("/")
    assert response.status_code == 200
    assert "No events have been published yet" in response.get_data(as_text=True)


def test_event_created_shows_on_list(client, create_event):
    create_event(title="Panel u Čačku — Ђорђе")
    page = client.get("/events").get_data(as_text=True)
    assert "Panel u Čačku — Ђорђе" in page


def test_login(auth, client):
    auth.login()
    assert "Log out" in client.get("/").get_data(as_text=True)
