"""iCalendar: a calendar feed (assistant.usecases.feeds) rendered for calendar clients."""
