"""The chat panel: the same dialogue as /api/chat, answered as HTML with buttons for options."""

from __future__ import annotations

from tests.web.test_approvals import Client


def test_find_a_slot_gets_options_as_buttons(signed_in_client: Client) -> None:
    client = signed_in_client("s001")
    assert 'id="chat-log"' in client.get("/approvals").text
    answer = client.post("/chat", data={"message": "find a slot for Kevin Fowler tomorrow"})
    assert answer.status_code == 200, answer.text
    assert "find a slot for Kevin Fowler tomorrow" in answer.text
    assert "book option 1" in answer.text and "<button" in answer.text
