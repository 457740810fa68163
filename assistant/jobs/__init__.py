"""Jobs the clock runs (the registry lands with branch `jobs`): the morning cycle is
assistant.jobs.morning.run(db, now)."""
