"""The Slack door: a Bolt app served at POST /slack/events (or over Socket Mode) that speaks the
same dialogue as the HTTP chat, with Slack's conventions and 42 CFR Part 2 (PRIV-10)."""
