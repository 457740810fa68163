"""The demo facilities answer what the README and the design card ask of them."""

from __future__ import annotations

import pytest

from clinic.demo import SPECIALIZATIONS, generate_demo
from tests.conftest import DEMO_START

CASELOAD_ROLES = {"therapist", "counselor"}
"""Who intake matches patients to, and who sees them one to one."""


@pytest.mark.parametrize("size", ["s", "m", "l"])
def test_every_specialization_has_a_therapist_or_counselor(size: str) -> None:
    # "find a dual-diagnosis slot for NAME" needs someone with the patient's own needs and
    # the one asked for; with none at all, every such request finds nothing.
    data = generate_demo(size, seed=7, start=DEMO_START)
    held = {
        spec
        for member in data["staff"]
        if member["role"] in CASELOAD_ROLES
        for spec in member["specializations"]
    }
    assert set(SPECIALIZATIONS) <= held
    clinicians = [m for m in data["staff"] if m["role"] in CASELOAD_ROLES]
    for patient in data["patients"]:
        assert any(set(patient["needs"]) <= set(c["specializations"]) for c in clinicians)
