"""Scheduled work (placeholder until the job registry lands: take the registry's version)."""
