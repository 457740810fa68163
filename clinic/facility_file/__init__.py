"""The facility file (contracts/facility.schema.json, vendored in clinic/schemas/).

`validate` checks the file on its own and reports every problem at once, each with its JSON path
(validate.py); `load_facility` writes it in one transaction, its appointments through the same
hard checks as the booking service and, when given, the booking policy (load.py);
`export_facility` writes it back (export.py); `read_file` and `dump` handle the text (text.py).
One record changed on its own (the living record: admit, add staff, ...) is checked by
`check_record` against the rest (records.py), built into rows by load.py's `*_row` builders and
shown by export.py's `*_record` functions, so a record means the same in the file and in a use case.
"""

from clinic.facility_file.export import (
    export_facility,
    facility_data,
    group_record,
    patient_record,
    room_record,
    staff_record,
)
from clinic.facility_file.load import (
    authorization_row,
    court_order_row,
    group_row,
    insert_group_people,
    load_facility,
    patient_row,
    room_row,
    staff_row,
)
from clinic.facility_file.records import check_record, record_problems
from clinic.facility_file.text import dump, read_file
from clinic.facility_file.validate import FACILITY_DEFAULTS, facility_schema, validate

__all__ = [
    "FACILITY_DEFAULTS",
    "authorization_row",
    "check_record",
    "court_order_row",
    "dump",
    "export_facility",
    "facility_data",
    "facility_schema",
    "group_record",
    "group_row",
    "insert_group_people",
    "load_facility",
    "patient_record",
    "patient_row",
    "read_file",
    "record_problems",
    "room_record",
    "room_row",
    "staff_record",
    "staff_row",
    "validate",
]
