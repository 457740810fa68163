"""The app schemathesis fuzzes, for the test_openapi_*.py files (tests/http/openapi_fuzz.py)."""

from tests.http.openapi_fuzz import fuzzed_app  # noqa: F401  (a fixture)
