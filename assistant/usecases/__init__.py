"""The use cases every door calls: one function per workflow, the same whichever door asked.

Each takes the caller and a command (a frozen dataclass naming what the person asked), checks
once whether the caller may (assistant.access, from the permissions pack), does the work in one
transaction (the booking service joins it, so a failure leaves nothing half-done) and returns a
plain value. Doors (integrations/) build commands and render results; they never query the
database or call the booking service themselves (tests/test_architecture.py checks the imports).

- appointments: book, cancel, move, set_status
- absences: report_absence (a sick call's repair plan), apply, reject, change_cover, withdraw;
  apply and reject decide every kind of proposal
- emergencies: propose_bumps (an emergency's bumps as a proposal), applied by absences.apply
- records: agenda and names for the operator, the audit log, facility presence, health
- staff: add, update (hours, specializations), planned_leave, depart (a repair proposal each)
- groups: create, enrol / unenrol (the rules' `enroll`), end (future sessions cancelled)
- rooms: close_room (the closure recorded, its sessions' repair proposed)
- series: book_series (a weekly series, all or nothing, every failing week named),
  change_series and cancel_series (this, following or all), show_series, find_series
- closures: close_facility (a holiday: nothing is booked on it), closures
- periods: a period as the facility file writes one, read from what a door was sent
- patients: admit, show, update, discharge (`change_record`: a record changed as the file checks it)
- paperwork: authorizations (add, renew, adjust), court orders (add, end), Part 2 consents
- notices: who must be told when appointments change; one notice per patient (the outbox)
- outbox: the messages owed to patients, a dead one retried; patients' SMS replies
- people: tokens, Slack links
- checks: "may this actor do this?" (rota check)
"""

from clinic.booking import AppointmentView

__all__ = ["AppointmentView"]
