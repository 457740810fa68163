"""The conversation: understand a message, ask for what is missing, offer options, confirm,
book, undo. The same for every door (HTTP, Slack, terminal).

Rasa's split: understanding (`assistant.parse`, via `assistant.llm.fallback.understand`) turns
text into a request frame; `router` picks the handler for the frame's intent and what the
conversation is waiting for; each module in `handlers` is one intent (a use-case call plus
wording); `wording` holds every sentence; `state` is what a conversation remembers between
messages (kept in the database per conversation, so every door and process shares it);
`facts` caches the roster the turns read; `entry` is the `Dialogue` the doors call.
"""

from assistant.dialogue.entry import Dialogue
from assistant.dialogue.reply import Reply

__all__ = ["Dialogue", "Reply"]
