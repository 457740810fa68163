"""Every door to the outside: HTTP, Slack, CLI. Depends on assistant; nothing depends on it."""
