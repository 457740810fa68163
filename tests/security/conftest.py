"""The Slack door's fixtures, for the log scan's Slack flow."""

from tests.slack.conftest import fake_slack, slack_env  # noqa: F401
