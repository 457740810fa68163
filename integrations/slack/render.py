"""Block Kit for the dialogue's replies: a "Book" button per option, "More options" and
"Cancel", and any other action the dialogue offers ("Apply", "Adjust", "Undo", ...).

Each rendering gets a random id carried in every button's value: a second press of any button
of the same rendering is a duplicate (see door.py), and "Book" buttons also carry the option's
time and clinicians so a press on an out-of-date message cannot book a different slot.
Limits from Slack: button text ≤ 75 characters, value ≤ 2000, section text ≤ 3000.
"""

from __future__ import annotations

import json
import re
import secrets
from typing import Any

from assistant.dialogue import Reply

_OPTION_LINE = re.compile(r"^(\d+)\.\s+(.+)$")
_SECTION_LIMIT = 2900


def render_id() -> str:
    return secrets.token_hex(6)


def escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def encode(
    message: str, render: str, fingerprint: str | None = None, conversation: str | None = None
) -> str:
    """A button's value: the message it sends, its rendering, and (for "Book") the option it
    showed and the conversation that offered it."""
    value: dict[str, str] = {"m": message, "r": render}
    if fingerprint:
        value["f"] = fingerprint
    if conversation:
        value["c"] = conversation
    return json.dumps(value, separators=(",", ":"))[:2000]


def decode(value: str | None) -> dict[str, str]:
    try:
        data = json.loads(value or "")
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


def fingerprint(option: dict[str, Any]) -> str:
    return f"{option['start']}|{','.join(option['staff'])}"


def _sections(text: str) -> list[dict[str, Any]]:
    blocks, chunk = [], ""
    for line in escape(text).splitlines():
        if len(chunk) + len(line) + 1 > _SECTION_LIMIT and chunk:
            blocks.append(_section(chunk))
            chunk = ""
        chunk = f"{chunk}\n{line}" if chunk else line[:_SECTION_LIMIT]
    if chunk:
        blocks.append(_section(chunk))
    return blocks


def _section(text: str) -> dict[str, Any]:
    return {"type": "section", "text": {"type": "mrkdwn", "text": text}}


def _button(label: str, action_id: str, value: str, style: str | None = None) -> dict[str, Any]:
    button: dict[str, Any] = {
        "type": "button",
        "text": {"type": "plain_text", "text": label[:75], "emoji": False},
        "action_id": action_id[:255],
        "value": value,
    }
    if style:
        button["style"] = style
    return button


def reply_blocks(reply: Reply, render: str, conversation: str) -> list[dict[str, Any]]:
    """The dialogue's reply as blocks; options become sections with a "Book" button each."""
    booking = [a for a in reply.actions if a["message"].startswith("book option ")]
    options = {o["option"]: o for o in reply.options if "option" in o}
    if not (booking and options):
        blocks = _sections(reply.reply)
        buttons = [
            _button(
                a["label"],
                f"rota_act_{i}",
                encode(a["message"], render, conversation=conversation),
                _style(a["label"]),
            )
            for i, a in enumerate(reply.actions)
        ]
        if buttons:
            blocks.append({"type": "actions", "block_id": f"rota_{render}", "elements": buttons})
        return blocks
    head, lines = [], {}
    for line in reply.reply.splitlines():
        match = _OPTION_LINE.match(line)
        if match and int(match.group(1)) in options:
            lines[int(match.group(1))] = match.group(2)
        elif not line.startswith("Reply '"):
            head.append(line)
    blocks = _sections("\n".join(head))
    for n, option in sorted(options.items()):
        text = lines.get(n) or f"{option['start']} with {', '.join(option['staff_names'])}"
        block = _section(f"*{n}.* {escape(text)}")
        block["accessory"] = _button(
            "Book",
            f"rota_book_{n}",
            encode(f"book option {n}", render, fingerprint(option), conversation),
            "primary",
        )
        blocks.append(block)
    others = [a for a in reply.actions if a not in booking]
    if others:
        blocks.append(
            {
                "type": "actions",
                "block_id": f"rota_{render}",
                "elements": [
                    _button(
                        a["label"],
                        _action_id(a, i),
                        encode(a["message"], render, conversation=conversation),
                    )
                    for i, a in enumerate(others)
                ],
            }
        )
    return blocks


def approval_blocks(
    proposal: str, text: str, render: str, *, adjustable: bool = True
) -> list[dict[str, Any]]:
    """Apply, and Adjust (a sick call's covers) or, for a proposal with nothing to adjust (an
    emergency's bumps), Reject."""
    blocks = _sections(f"Approval needed (proposal {proposal}):\n{text}")
    second = (
        _button("Adjust", "rota_adjust", encode(f"adjust {proposal}", render))
        if adjustable
        else _button("Reject", "rota_reject", encode(f"reject {proposal}", render))
    )
    blocks.append(
        {
            "type": "actions",
            "block_id": f"rota_{render}",
            "elements": [
                _button("Apply", "rota_apply", encode(f"apply {proposal}", render), "primary"),
                second,
            ],
        }
    )
    return blocks


def text_blocks(text: str) -> list[dict[str, Any]]:
    return _sections(text)


def _action_id(action: dict[str, str], i: int) -> str:
    if action["message"] == "none of those":
        return "rota_more"
    if action["label"].lower() == "cancel":
        return "rota_cancel"
    return f"rota_act_{i}"


def _style(label: str) -> str | None:
    return {"apply": "primary", "undo": None, "yes, cancel": "danger"}.get(label.lower())
