"""The solver's problem for interactive requests, kept per process and brought up to date.

Building a problem reads the whole facility (every person, the rules' `constraints_for`, the
unit ledger, recent clinicians): hundreds of milliseconds. Most of it changes only when people,
rooms, rules or absences change — the facility's version (`clinic.versions`). A booking, cancel,
move or status change touches only the appointments' part: the booked sessions of the window,
the patients' unit budgets and the clinicians they saw recently. So after appointment events a
cached problem is patched — the appointments the audit log names are read again, the budgets
of their patients recomputed from the one ledger (`rules.units`) — and after any other event it
is built anew. A test holds every patched problem equal to a freshly built one.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from assistant.problem_builder import (
    Basis,
    BuiltProblem,
    booked_rows,
    build_problem,
    holds_time,
    in_order,
    placement_of,
    recent_clinicians,
)
from clinic import network
from clinic.db import Database
from clinic.models import AppointmentPatient
from clinic.settings import whole_number
from clinic.timeutil import day_bounds, week_bounds
from clinic.versions import EventRef, Versions, appointments_changed, read_versions
from rules.facts import patient_history
from rules.model import AppointmentFacts
from rules.service import default_service
from rules.units import ledger


@dataclass(frozen=True)
class _Cached:
    built: BuiltProblem
    basis: Basis
    """What patching the problem needs (`built.basis`, never None here)."""
    facility: EventRef | None
    """The facility's version the problem was built at."""
    newest: EventRef | None
    """The newest event the problem is true at."""
    elsewhere: frozenset[tuple[str, datetime, datetime]] = frozenset()
    """Shared clinicians' time at other sites of a network when it was built (this facility's
    audit log does not see those bookings, so they are compared on every request)."""


_PROBLEMS: OrderedDict[tuple[Any, ...], _Cached] = OrderedDict()
_LOCK = threading.Lock()
# Windows kept per process, over every facility it serves (least recently used dropped first).
# About 2 MB each for an m-size facility's day. 8 was enough for one facility; a server of a
# 20-facility network asked about each one's "tomorrow" rebuilt a problem on nearly every turn.
_KEPT_DEFAULT = 64
_UPDATING: dict[tuple[Any, ...], threading.Lock] = {}


def cached_problem(db: Database, start: datetime, end: datetime) -> BuiltProblem:
    """The problem for whole local days around [start, end), true at the newest audit event."""
    tz = db.facility_tz()
    lo = day_bounds(start.astimezone(tz).date(), tz)[0]
    hi = day_bounds((end - timedelta(microseconds=1)).astimezone(tz).date(), tz)[1]
    key = (db.key, lo, hi)
    versions = read_versions(db)
    away = _elsewhere(db, lo, hi)
    with _LOCK:
        updating = _UPDATING.setdefault(key, threading.Lock())
    with updating:  # one update per window; concurrent askers wait for it instead of repeating it
        with _LOCK:
            cached = _PROBLEMS.get(key)
            if cached is not None:
                _PROBLEMS.move_to_end(key)
        if cached is not None and cached.elsewhere != away:
            cached = None  # a shared clinician's time at another site changed: build anew
        if cached is not None and _fresh_enough(cached, versions):
            return cached.built
        with db.read() as session:
            built = _patched(session, cached, versions) if cached else None
            if built is None:
                built = build_problem(session, lo, hi)
        assert built.basis is not None
        kept = whole_number("ROTA_PROBLEM_CACHE", _KEPT_DEFAULT, most=10_000)
        with _LOCK:
            _PROBLEMS[key] = _Cached(built, built.basis, versions.facility, versions.newest, away)
            _PROBLEMS.move_to_end(key)
            while len(_PROBLEMS) > kept:
                _UPDATING.pop(_PROBLEMS.popitem(last=False)[0], None)
    return built


def _elsewhere(
    db: Database, lo: datetime, hi: datetime
) -> frozenset[tuple[str, datetime, datetime]]:
    """Shared clinicians' busy time at the network's other sites, and the sessions they hold
    there in the ISO weeks around [lo, hi) that their weekly cap counts (empty without a
    network)."""
    if db.facility is None:
        return frozenset()
    tz = db.facility_tz()
    weeks = (week_bounds(lo, tz)[0], week_bounds(hi - timedelta(microseconds=1), tz)[1])
    with db.read() as session:
        linked = network.linked_here(session)
        busy = network.elsewhere(session, linked, lo, hi)
        held = network.held_elsewhere(session, linked, *weeks)
    return frozenset(
        (mine, b.start, b.end) for mine, found in busy.items() for b in found
    ) | frozenset((mine, h.start, h.end) for mine, found in held.items() for h in found)


def _fresh_enough(cached: _Cached, versions: Versions) -> bool:
    """True when the cached problem is true at `versions` or later. A request reads the versions
    once, at its start; meanwhile another request may have brought the problem further, and a
    newer problem serves the older question (the booking re-checks everything anyway), where
    "patching" it backwards would rebuild it from scratch."""
    if cached.newest == versions.newest:
        return True
    return (
        cached.facility == versions.facility
        and cached.newest is not None
        and versions.newest is not None
        and cached.newest.seq > versions.newest.seq
    )


def _patched(session: Session, cached: _Cached, versions: Versions) -> BuiltProblem | None:
    """The cached problem brought up to `versions`, or None when it must be built anew (the
    facility changed, the packs were reloaded, or a change reaches beyond the appointments)."""
    if cached.facility != versions.facility or cached.newest is None or versions.newest is None:
        return None
    if cached.basis.packs is not default_service().packs:
        return None
    changed = appointments_changed(session, cached.newest, versions.newest)
    if changed is None:
        return None
    # The changed appointments are read as they are now, so a change after `versions` that
    # this already shows is read again, harmlessly, by the next patch.
    return patch(session, cached.built, changed)


def patch(session: Session, built: BuiltProblem, changed: set[str]) -> BuiltProblem | None:
    """`built` with the appointments `changed` read again: the booked sessions, and the unit
    budgets and recent clinicians of their patients. None when a change may reach further (a
    patient whose allowed session types wait for their first assessment)."""
    basis, problem, clock = built.basis, built.problem, built.clock
    if basis is None:  # not built by build_problem
        return None
    if [pid for pid, _ in basis.budget_sources] != [b.patient for b in problem.eligibility.budgets]:
        return None  # the budgets are not the authorizations' one for one: build anew
    patients = {p for a in problem.booked if a.id in changed for p in a.patients}
    patients |= set(
        session.scalars(
            select(AppointmentPatient.patient_id).where(
                AppointmentPatient.appointment_id.in_(changed)
            )
        )
    )
    if patients & basis.intake_first:
        return None
    booked = in_order(
        [a for a in problem.booked if a.id not in changed]
        + [
            placement_of(a, clock, basis.court_types)
            for a in booked_rows(session, basis.booked_span, changed)
            if holds_time(a)
        ]
    )
    # Unit budgets: the one ledger over each patient's history, as build_problem's rules read it.
    budgets = list(problem.eligibility.budgets)
    histories: dict[str, tuple[AppointmentFacts, ...]] = {}
    for i, (pid, auth) in enumerate(basis.budget_sources):
        if pid in patients:
            if pid not in histories:
                histories[pid] = patient_history(session, pid)
            units = ledger(auth, histories[pid], basis.tz, basis.packs.tables)
            budgets[i] = replace(budgets[i], remaining=max(0, units.left))
    seen = recent_clinicians(session, basis.history_span, patients)
    infos = tuple(
        replace(p, seen_by=tuple(seen.get(p.id, ()))) if p.id in patients else p
        for p in problem.patients
    )
    new = replace(
        problem,
        booked=booked,
        patients=infos,
        eligibility=replace(problem.eligibility, budgets=budgets),
    )
    return BuiltProblem(new, clock, built.start, built.end, built.staff_names, basis)
