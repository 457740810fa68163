"""One module per intent: each handler is a use-case call plus the wording of its answer."""
