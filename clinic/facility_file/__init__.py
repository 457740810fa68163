"""The facility file (contracts/facility.schema.json, vendored in clinic/schemas/).

`validate` checks the file on its own and reports every problem at once, each with its JSON path
(validate.py); `load_facility` writes it in one transaction, its appointments through the same
hard checks as the booking service and, when given, the booking policy (load.py);
`export_facility` writes it back (export.py); `read_file` and `dump` handle the text (text.py).
"""

from clinic.facility_file.export import export_facility
from clinic.facility_file.load import load_facility
from clinic.facility_file.text import dump, read_file
from clinic.facility_file.validate import FACILITY_DEFAULTS, facility_schema, validate

__all__ = [
    "FACILITY_DEFAULTS",
    "dump",
    "export_facility",
    "facility_schema",
    "load_facility",
    "read_file",
    "validate",
]
