"""The columns Rota reads from TherapyNotes-style and SimplePractice-style CSV exports.

"-style": these are the fields those systems show for a client and an appointment (legal first
and last name, date of birth, primary clinician; date, start time, duration or end time,
client or patient, clinician, service, location, status), under the names their screens and
reports use. They are not a published file format, and an export from either system may name
a column differently: every column below lists the names it accepts (case and spacing
ignored); a column the file has that is not listed is ignored and reported.

A field is one of Rota's (`name`, `first_name` …); each format lists, per field, the column
names it accepts, first the one its exports use.
"""

from __future__ import annotations

from dataclasses import dataclass

FORMATS = ("therapynotes", "simplepractice")
KINDS = ("clients", "appointments")


@dataclass(frozen=True)
class Layout:
    columns: dict[str, tuple[str, ...]]
    """Rota's field → the column names accepted for it."""
    required: tuple[tuple[str, ...], ...]
    """Each entry: one of these fields must be present (a full name, or first and last)."""


_NAME = {
    "first_name": ("First Name", "Legal First Name", "Given Name"),
    "last_name": ("Last Name", "Legal Last Name", "Family Name", "Surname"),
    "middle_name": ("Middle Name",),
    "dob": ("Date of Birth", "DOB", "Birth Date", "Birthdate"),
    "sex": ("Sex", "Gender", "Sex Assigned at Birth"),
    "phone": ("Mobile Phone", "Cell Phone", "Phone", "Phone Number", "Home Phone"),
    "email": ("Email", "Email Address", "E-mail"),
}

LAYOUTS: dict[tuple[str, str], Layout] = {
    ("therapynotes", "clients"): Layout(
        {
            "name": ("Patient", "Patient Name", "Name"),
            **_NAME,
            "clinician": ("Clinician", "Primary Clinician", "Assigned Clinician"),
            "external_id": ("Patient ID", "Account Number", "ID"),
        },
        (("name", "last_name"),),
    ),
    ("simplepractice", "clients"): Layout(
        {
            "name": ("Client", "Client Name", "Name"),
            **_NAME,
            "clinician": ("Primary Clinician", "Clinician"),
            "external_id": ("Client ID", "ID"),
        },
        (("name", "last_name"),),
    ),
    ("therapynotes", "appointments"): Layout(
        {
            "day": ("Date", "Appointment Date"),
            "start": ("Start Time", "Time", "Start"),
            "end": ("End Time", "End"),
            "duration": ("Duration", "Duration (min)", "Minutes"),
            "patient": ("Patient", "Patient Name"),
            "patient_id": ("Patient ID", "Account Number"),
            "clinician": ("Clinician", "Provider", "Rendering Clinician"),
            "session_type": ("Service Type", "Appointment Type", "Service", "Type"),
            "room": ("Location", "Room"),
            "status": ("Status", "Appointment Status"),
        },
        (("day",), ("start",), ("patient", "patient_id"), ("clinician",), ("session_type",)),
    ),
    ("simplepractice", "appointments"): Layout(
        {
            "day": ("Date", "Date of Service", "Appointment Date"),
            "start": ("Time", "Start Time", "Start"),
            "end": ("End Time", "End"),
            "duration": ("Duration", "Duration (min)", "Minutes"),
            "patient": ("Client", "Client Name"),
            "patient_id": ("Client ID",),
            "clinician": ("Clinician", "Provider"),
            "session_type": ("Service", "Service Code", "Appointment Type", "Type"),
            "room": ("Location", "Room"),
            "status": ("Status", "Appointment Status", "Attendance Status"),
        },
        (("day",), ("start",), ("patient", "patient_id"), ("clinician",), ("session_type",)),
    ),
}

IMPORTED_STATUSES = frozenset({"", "scheduled", "confirmed", "booked", "pending", "unconfirmed"})
"""Appointment statuses that are still to happen: those rows are booked. Any other status
(show, attended, no show, canceled, late canceled …) is history, which an import leaves out
(the row is reported as skipped)."""
