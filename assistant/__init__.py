"""Use cases and conversation: understand, protect, decide, answer."""
