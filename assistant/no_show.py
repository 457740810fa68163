"""No-show risk: the chance that a patient misses a session (a no-show or a late cancellation),
learnt from the facility's own attendance history and read by reminders, options, agendas and
group enrolment through ONE function, `no_show_probability` (and its batch twin).

Features of one patient's place in one session (each from what was known before it):
- lead time, days from booking (`Appointment.created_at`) to the start, capped at 21 (unknown
  when the record was loaded after the session: then a week); booked within two days;
- weekday and hour (facility time), session type (one-hot, vocabulary from training);
- the patient's misses among their last three sessions; a first visit, and one booked > 2 days
  out; a clinician other than the patient's primary clinician;
- the patient's own rate, smoothed toward the facility's (empirical Bayes: a beta prior whose
  strength is estimated from the spread of patients' rates, so a short history shrinks to the
  facility rate and a long one speaks for itself), on the logit scale.

The model is a logistic regression (scikit-learn, L2, C=1). Its probabilities are checked, not
post-hoc recalibrated: the expected calibration error over ten equal-count bins of the held-out
weeks is stored with the model (a logistic regression fit by maximum likelihood is calibrated on
its training data by construction; the held-out check says whether that survives new weeks).
Training fits on all but the latest HELD_OUT_WEEKS weeks, scores those weeks against the
baseline (the smoothed per-patient rate alone) in the same run, then refits on the whole window
and stores that fit with the split's metrics. Stored as JSON (intercept, named coefficients,
the prior) rather than pickled bytes: reading a row can run no code, and the row is readable.

With no model stored, the answer is the smoothed per-patient rate (the baseline).
"""

from __future__ import annotations

import math
import time
from bisect import bisect_left
from collections import defaultdict, deque
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session, selectinload

from assistant.access import authorize
from clinic.attendance_history import MISSED, OUTCOMES, RECENT, AttendanceRow
from clinic.audit import append_event
from clinic.db import Database
from clinic.errors import InvalidInput, NotFound
from clinic.models import (
    SCHEDULED_STATUSES,
    Appointment,
    AppointmentPatient,
    AppointmentStaff,
    Group,
    Patient,
)
from clinic.queries import facility_zone_name
from clinic.risk_models import RiskModel
from clinic.timeutil import now_utc, zone
from clinic.tokens import Caller

KIND = "logistic-v1"
HELD_OUT_WEEKS = 3
TRAINING_WINDOW = timedelta(weeks=52)
MIN_TRAINING_OUTCOMES = 200
"""Fewer outcomes than this before the held-out weeks: no model (the smoothed rate stands)."""
LEAD_CAP_DAYS = 21
LEAD_UNKNOWN_DAYS = 7
HIGH_RISK = 0.4
"""At or above this probability a session is flagged "high no-show risk" on options and
agendas: on generated histories (bench/no_show.py) about 15–21 % of sessions, which are then
missed about 52 % of the time, twice the facility's rate."""
EXTRA_REMINDER_FROM = 0.3
"""At or above this probability the patient also gets the 24-hour reminder (the old rule's
cut-off on the patient's own missed share): about 27–38 % of sessions, missed about 45 %."""
FACILITY_RATE_WITHOUT_HISTORY = 0.25
"""The facility rate before it has any history: outpatient addiction treatment misses 20–40 %
of sessions (OPS-01: 37.4 % before, 19.9 % after the NIATx changes)."""
PRIOR_STRENGTH = (2.0, 20.0)
"""Bounds of the prior's strength (in sessions) the empirical-Bayes estimate may take."""
FALLBACK_PRIOR_WINDOW = timedelta(weeks=26)
CALIBRATION_BINS = 10
OVERBOOK_CAP = 1.5
"""Never suggest enrolling more than this many times a group's capacity."""
WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


# --- the per-patient rate ------------------------------------------------------------------------


@dataclass(frozen=True)
class Prior:
    """Beta(strength × rate, strength × (1 − rate)): the facility's rate, worth `strength`
    sessions of a patient's own history."""

    rate: float
    strength: float

    def smoothed(self, misses: int, n: int) -> float:
        return (misses + self.strength * self.rate) / (n + self.strength)


def fit_prior(counts: Iterable[tuple[int, int]]) -> Prior:
    """Empirical Bayes by the method of moments, from each patient's (sessions, misses): the
    spread of patients' rates beyond what chance gives says how much a patient's own history
    is worth."""
    pairs = [(n, m) for n, m in counts if n > 0]
    total = sum(n for n, _ in pairs)
    if total == 0:
        return Prior(FACILITY_RATE_WITHOUT_HISTORY, PRIOR_STRENGTH[0] * 4)
    rate = sum(m for _, m in pairs) / total
    rate = min(max(rate, 0.01), 0.99)
    spread = sum(n * (m / n - rate) ** 2 for n, m in pairs)
    between = (spread - len(pairs) * rate * (1 - rate)) / total
    strength = rate * (1 - rate) / between - 1 if between > 0 else PRIOR_STRENGTH[1]
    return Prior(rate, min(max(strength, PRIOR_STRENGTH[0]), PRIOR_STRENGTH[1]))


@dataclass
class _Past:
    """One patient's outcomes so far."""

    n: int = 0
    misses: int = 0
    last: deque[bool] = field(default_factory=lambda: deque(maxlen=RECENT))

    def add(self, missed: bool) -> None:
        self.n += 1
        self.misses += missed
        self.last.append(missed)


# --- features and the model ----------------------------------------------------------------------


def _logit(p: float) -> float:
    p = min(max(p, 1e-4), 1 - 1e-4)
    return math.log(p / (1 - p))


def features(
    start: datetime,
    session_type: str,
    lead_days: int | None,
    own_clinician: bool,
    past: _Past,
    prior: Prior,
) -> dict[str, float]:
    """The named features of one visit (`start` facility-local)."""
    lead = LEAD_UNKNOWN_DAYS if lead_days is None else min(max(lead_days, 0), LEAD_CAP_DAYS)
    first = past.n == 0
    return {
        "lead_days": float(lead),
        "booked_within_2_days": float(lead <= 2),
        "recent_misses": float(sum(past.last)),
        "first_visit": float(first),
        "first_visit_booked_late": float(first and lead > 2),
        "other_clinician": float(not own_clinician),
        "patient_rate_logit": _logit(prior.smoothed(past.misses, past.n)),
        f"weekday={WEEKDAYS[start.weekday()]}": 1.0,
        f"hour={start.hour:02d}": 1.0,
        f"session_type={session_type}": 1.0,
    }


@dataclass(frozen=True)
class Model:
    intercept: float
    coefficients: dict[str, float]
    prior: Prior

    def probability(self, named: dict[str, float]) -> float:
        """Features outside the training vocabulary (a new session type) weigh nothing."""
        z = self.intercept + sum(self.coefficients.get(k, 0.0) * v for k, v in named.items())
        return 1.0 / (1.0 + math.exp(-z))

    def params(self) -> dict[str, Any]:
        return {
            "intercept": self.intercept,
            "coefficients": dict(sorted(self.coefficients.items())),
            "prior": {"rate": self.prior.rate, "strength": self.prior.strength},
            "lead_cap_days": LEAD_CAP_DAYS,
            "lead_unknown_days": LEAD_UNKNOWN_DAYS,
        }

    @classmethod
    def from_params(cls, params: dict[str, Any]) -> Model:
        prior = params["prior"]
        return cls(
            float(params["intercept"]),
            {str(k): float(v) for k, v in params["coefficients"].items()},
            Prior(float(prior["rate"]), float(prior["strength"])),
        )


@dataclass(frozen=True)
class Example:
    start: datetime
    features: dict[str, float]
    missed: bool
    baseline: float  # the smoothed per-patient rate before this session


def examples(rows: Sequence[AttendanceRow], prior: Prior) -> list[Example]:
    """Each row's features from what was known before it (rows in any order)."""
    past: dict[str, _Past] = defaultdict(_Past)
    out = []
    for row in sorted(rows, key=lambda r: (r.start, r.patient_id)):
        mine = past[row.patient_id]
        named = features(row.start, row.session_type, row.lead_days, row.own_clinician, mine, prior)
        out.append(Example(row.start, named, row.missed, prior.smoothed(mine.misses, mine.n)))
        mine.add(row.missed)
    return out


def fit(train: Sequence[Example], prior: Prior) -> Model:
    from sklearn.feature_extraction import DictVectorizer
    from sklearn.linear_model import LogisticRegression

    labels = [e.missed for e in train]
    if len(set(labels)) < 2:
        raise InvalidInput("the history has only one outcome (every session kept or missed)")
    vectorizer = DictVectorizer(sparse=False)
    x = vectorizer.fit_transform([e.features for e in train])
    regression = LogisticRegression(C=1.0, solver="newton-cholesky", max_iter=200).fit(x, labels)
    names = vectorizer.get_feature_names_out()
    coefficients = {str(n): float(c) for n, c in zip(names, regression.coef_[0], strict=True)}
    return Model(float(regression.intercept_[0]), coefficients, prior)


# --- scores --------------------------------------------------------------------------------------


def reliability(
    predicted: Sequence[float], observed: Sequence[bool], bins: int = CALIBRATION_BINS
) -> list[dict[str, float]]:
    """Mean predicted vs observed rate in `bins` equal-count bins of the predictions."""
    order = sorted(range(len(predicted)), key=lambda i: predicted[i])
    out = []
    for b in range(bins):
        chunk = order[b * len(order) // bins : (b + 1) * len(order) // bins]
        if chunk:
            out.append(
                {
                    "predicted": sum(predicted[i] for i in chunk) / len(chunk),
                    "observed": sum(observed[i] for i in chunk) / len(chunk),
                    "n": len(chunk),
                }
            )
    return out


def calibration_error(
    predicted: Sequence[float], observed: Sequence[bool], bins: int = CALIBRATION_BINS
) -> float:
    """Expected calibration error: the count-weighted mean |predicted − observed| over bins."""
    table = reliability(predicted, observed, bins)
    total = sum(b["n"] for b in table)
    return sum(b["n"] * abs(b["predicted"] - b["observed"]) for b in table) / total


def scores(predicted: Sequence[float], observed: Sequence[bool]) -> dict[str, float | None]:
    from sklearn.metrics import brier_score_loss, roc_auc_score

    both = len(set(observed)) == 2
    return {
        "auc": round(float(roc_auc_score(observed, predicted)), 4) if both else None,
        "brier": round(float(brier_score_loss(observed, predicted)), 4),
        "ece": round(calibration_error(predicted, observed), 4),
    }


# --- training ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Trained:
    model: Model
    n: int
    train_from: datetime
    held_out_from: datetime
    train_until: datetime
    metrics: dict[str, Any]


def train(
    rows: Sequence[AttendanceRow], until: datetime, *, held_out_weeks: int = HELD_OUT_WEEKS
) -> Trained:
    """Fit on the rows before the latest `held_out_weeks` weeks, score those weeks (model and
    baseline), then refit on every row (the fit that is used)."""
    began = time.perf_counter()
    rows = [r for r in rows if r.start < until]
    if held_out_weeks < 1:
        raise InvalidInput("held-out weeks: at least 1")
    cutoff = until - timedelta(weeks=held_out_weeks)
    before = [r for r in rows if r.start < cutoff]
    if len(before) < MIN_TRAINING_OUTCOMES or not rows:
        raise InvalidInput(
            f"not enough attendance history to train: {len(before)} outcomes before the "
            f"{held_out_weeks} held-out weeks, at least {MIN_TRAINING_OUTCOMES} needed"
        )
    split_prior = fit_prior(_counts(before))
    split = examples(rows, split_prior)
    learn = [e for e in split if e.start < cutoff]
    held = [e for e in split if e.start >= cutoff]
    model = fit(learn, split_prior)
    observed = [e.missed for e in held]
    metrics: dict[str, Any] = {
        "n_train": len(learn),
        "n_held_out": len(held),
        "held_out_weeks": held_out_weeks,
    }
    if held:
        predicted = [model.probability(e.features) for e in held]
        metrics |= {
            "held_out_rate": round(sum(observed) / len(held), 4),
            "mean_predicted": round(sum(predicted) / len(held), 4),
            "model": scores(predicted, observed),
            "baseline": scores([e.baseline for e in held], observed),
            "reliability": [
                {k: round(v, 4) if k != "n" else int(v) for k, v in b.items()}
                for b in reliability(predicted, observed)
            ],
        }
    prior = fit_prior(_counts(rows))
    final = fit(examples(rows, prior), prior)
    metrics["seconds"] = round(time.perf_counter() - began, 3)
    first = min(r.start for r in rows)
    return Trained(final, len(rows), first, cutoff, until, metrics)


def _counts(rows: Iterable[AttendanceRow]) -> list[tuple[int, int]]:
    n: dict[str, int] = defaultdict(int)
    m: dict[str, int] = defaultdict(int)
    for r in rows:
        n[r.patient_id] += 1
        m[r.patient_id] += r.missed
    return [(n[p], m[p]) for p in n]


# --- the database --------------------------------------------------------------------------------


def history_rows(session: Session, since: datetime, until: datetime) -> list[AttendanceRow]:
    """Every patient's outcome in [since, until), as rows (each member's own status)."""
    tz = zone(facility_zone_name(session))
    links = (
        select(
            AppointmentPatient.patient_id,
            AppointmentPatient.status,
            AppointmentPatient.start,
            Appointment.id,
            Appointment.session_type_id,
            Appointment.created_at,
        )
        .join(Appointment, Appointment.id == AppointmentPatient.appointment_id)
        .where(
            AppointmentPatient.status.in_(OUTCOMES),
            AppointmentPatient.start >= since,
            AppointmentPatient.start < until,
        )
    )
    found = session.execute(links).all()
    staff: dict[str, set[str]] = defaultdict(set)
    ids = sorted({r[3] for r in found})
    for chunk in range(0, len(ids), 500):
        for aid, sid in session.execute(
            select(AppointmentStaff.appointment_id, AppointmentStaff.staff_id).where(
                AppointmentStaff.appointment_id.in_(ids[chunk : chunk + 500])
            )
        ):
            staff[aid].add(sid)
    primary = dict(session.execute(select(Patient.id, Patient.primary_clinician_id)).all())
    return [
        AttendanceRow(
            patient_id=pid,
            start=start.astimezone(tz),
            session_type=stype,
            lead_days=lead_days_of(start, created),
            own_clinician=_own(primary.get(pid), staff[aid]),
            status=status,
        )
        for pid, status, start, aid, stype, created in found
    ]


def lead_days_of(start: datetime, booked: datetime | None) -> int | None:
    """Whole days booked ahead; None when the record was written after the session (a file
    loaded without its booking times)."""
    if booked is None or booked > start:
        return None
    return int((start - booked).total_seconds() // 86400)


def _own(primary: str | None, staff: Iterable[str]) -> bool:
    staff = set(staff)
    return primary is None or not staff or primary in staff


def retrain(
    db: Database,
    now: datetime,
    *,
    actor: str = "retrain-risk",
    held_out_weeks: int | None = None,
) -> dict[str, Any]:
    """Train on the facility's history before `now`, store the fit as the next version, and
    return what `rota risk show` prints."""
    with db.read() as session:
        rows = history_rows(session, now - TRAINING_WINDOW, now)
    trained = train(rows, now, held_out_weeks=held_out_weeks or HELD_OUT_WEEKS)
    with db.session() as session:
        latest = session.scalar(select(func.max(RiskModel.version))) or 0
        row = RiskModel(
            version=latest + 1,
            kind=KIND,
            trained_at=now_utc(),
            train_from=trained.train_from,
            train_until=trained.train_until,
            held_out_from=trained.held_out_from,
            n=trained.n,
            metrics=trained.metrics,
            params=trained.model.params(),
        )
        session.add(row)
        session.flush()
        append_event(
            session,
            actor=actor,
            action="train_risk_model",
            entity_type="risk_model",
            entity_id=str(row.version),
            after={"version": row.version, "n": row.n, "metrics": _headline(row.metrics)},
        )
        return describe(row, db.facility_tz())


def _headline(metrics: dict[str, Any]) -> dict[str, Any]:
    return {k: metrics.get(k) for k in ("model", "baseline", "n_train", "n_held_out")}


def describe(row: RiskModel, tz: Any) -> dict[str, Any]:
    def local(moment: datetime) -> str:
        return moment.astimezone(tz).isoformat(timespec="minutes")

    return {
        "version": row.version,
        "kind": row.kind,
        "trained_at": local(row.trained_at),
        "window": {
            "from": local(row.train_from),
            "held_out_from": local(row.held_out_from),
            "until": local(row.train_until),
        },
        "n": row.n,
        "metrics": row.metrics,
    }


def latest_row(session: Session) -> RiskModel | None:
    return session.scalars(select(RiskModel).order_by(RiskModel.version.desc()).limit(1)).first()


def show(db: Database) -> dict[str, Any] | None:
    """The model in force (version, window, metrics), or None when none is stored."""
    with db.read() as session:
        row = latest_row(session)
        return None if row is None else describe(row, db.facility_tz())


# --- asking --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RiskQuery:
    patient_id: str
    start: datetime  # aware
    session_type: str
    lead_days: int | None = None  # None: from now to start
    staff: tuple[str, ...] = ()  # empty: assume the patient's own clinician


def no_show_probability(
    session: Session,
    patient_id: str,
    start: datetime,
    session_type: str,
    *,
    lead_days: int | None = None,
    staff: Sequence[str] = (),
    now: datetime | None = None,
) -> float:
    """The chance this patient misses (no-show or late cancellation) this session: the stored
    model's, else the patient's smoothed own rate."""
    query = RiskQuery(patient_id, start, session_type, lead_days, tuple(staff))
    return no_show_probabilities(session, [query], now=now)[0]


def no_show_probabilities(
    session: Session, queries: Sequence[RiskQuery], *, now: datetime | None = None
) -> list[float]:
    """`no_show_probability` for many visits at once (one read of the model and histories)."""
    if not queries:
        return []
    moment = now or now_utc()
    stored = latest_row(session)
    model = Model.from_params(stored.params) if stored else None
    tz = zone(facility_zone_name(session))
    pids = sorted({q.patient_id for q in queries})
    latest = max(q.start for q in queries)
    past: dict[str, list[tuple[datetime, bool]]] = defaultdict(list)
    for chunk in range(0, len(pids), 500):
        for pid, start, status in session.execute(
            select(
                AppointmentPatient.patient_id, AppointmentPatient.start, AppointmentPatient.status
            ).where(
                AppointmentPatient.patient_id.in_(pids[chunk : chunk + 500]),
                AppointmentPatient.status.in_(OUTCOMES),
                AppointmentPatient.start < latest,
            )
        ):
            past[pid].append((start, status in MISSED))
    for outcomes in past.values():
        outcomes.sort()
    primary = dict(
        session.execute(
            select(Patient.id, Patient.primary_clinician_id).where(Patient.id.in_(pids))
        ).all()
    )
    prior = model.prior if model else facility_prior(session, moment)
    out = []
    for q in queries:
        mine = past.get(q.patient_id, [])
        before = mine[: bisect_left(mine, (q.start, False))]
        state = _Past()
        for _, missed in before:
            state.add(missed)
        if model is None:
            out.append(prior.smoothed(state.misses, state.n))
            continue
        lead = q.lead_days
        if lead is None:
            lead = max(0, int((q.start - moment).total_seconds() // 86400))
        named = features(
            q.start.astimezone(tz),
            q.session_type,
            lead,
            _own(primary.get(q.patient_id), q.staff),
            state,
            prior,
        )
        out.append(model.probability(named))
    return out


def appointment_risks(
    session: Session, appointments: Sequence[Appointment], now: datetime
) -> dict[str, dict[str, float]]:
    """Each still-expected patient's no-show probability, per appointment id (lead time from
    when it was booked, its own staff)."""
    pairs = [
        (a, link.patient_id)
        for a in appointments
        for link in a.patient_links
        if link.active and link.status in SCHEDULED_STATUSES
    ]
    risks = no_show_probabilities(
        session,
        [
            RiskQuery(
                pid,
                a.start,
                a.session_type_id,
                lead_days_of(a.start, a.created_at),
                tuple(a.staff_ids),
            )
            for a, pid in pairs
        ],
        now=now,
    )
    out: dict[str, dict[str, float]] = defaultdict(dict)
    for (a, pid), p in zip(pairs, risks, strict=True):
        out[a.id][pid] = p
    return dict(out)


def upcoming_risks(
    session: Session, appointment_ids: Sequence[str], now: datetime
) -> dict[str, dict[str, float]]:
    """`appointment_risks` of those among `appointment_ids` still to come, rounded for people."""
    rows = session.scalars(
        select(Appointment)
        .where(
            Appointment.id.in_(list(appointment_ids)),
            Appointment.status.in_(SCHEDULED_STATUSES),
            Appointment.start >= now,
        )
        .options(selectinload(Appointment.patient_links), selectinload(Appointment.staff_links))
    ).all()
    return {
        aid: {pid: round(p, 2) for pid, p in risks.items()}
        for aid, risks in appointment_risks(session, rows, now).items()
    }


def facility_prior(session: Session, now: datetime) -> Prior:
    """The beta prior from every patient's outcomes in the last half year (no model stored)."""
    rows = session.execute(
        select(
            AppointmentPatient.patient_id,
            func.count(),
            func.sum(case((AppointmentPatient.status.in_(MISSED), 1), else_=0)),
        )
        .where(
            AppointmentPatient.status.in_(OUTCOMES),
            AppointmentPatient.start < now,
            AppointmentPatient.start >= now - FALLBACK_PRIOR_WINDOW,
        )
        .group_by(AppointmentPatient.patient_id)
    ).all()
    return fit_prior((int(n), int(m or 0)) for _, n, m in rows)


def is_high(probability: float) -> bool:
    """Flag it "high no-show risk"."""
    return probability >= HIGH_RISK


def needs_extra_reminder(probability: float) -> bool:
    return probability >= EXTRA_REMINDER_FROM


# --- group enrolment -----------------------------------------------------------------------------


def enrolment_suggestion(session: Session, group_id: str, now: datetime) -> dict[str, Any]:
    """How many to enrol so that the expected attendance fills the group: floor(capacity /
    expected attendance rate of the current members at the group's next session), at most
    OVERBOOK_CAP × capacity; never fewer than capacity."""
    group = session.get(Group, group_id)
    if group is None:
        raise NotFound(f"no group with id {group_id!r}")
    members = [p.id for p in group.members]
    nxt = session.execute(
        select(Appointment.start, Appointment.id)
        .where(Appointment.group_id == group_id, Appointment.active, Appointment.start > now)
        .order_by(Appointment.start)
        .limit(1)
    ).first()
    start = nxt[0] if nxt else now + timedelta(days=7)
    staff: tuple[str, ...] = ()
    if nxt:
        staff = tuple(
            session.scalars(
                select(AppointmentStaff.staff_id).where(AppointmentStaff.appointment_id == nxt[1])
            )
        )
    else:
        staff = tuple(s.id for s in group.facilitators)
    risks = no_show_probabilities(
        session,
        [RiskQuery(pid, start, group.session_type_id, None, staff) for pid in members],
        now=now,
    )
    capacity = group.capacity
    expected = round(1 - sum(risks) / len(risks), 3) if risks else None
    suggested = None
    if capacity and expected:
        suggested = max(
            capacity, min(math.floor(capacity / expected), int(capacity * OVERBOOK_CAP))
        )
    return {
        "group": group_id,
        "capacity": capacity,
        "members": len(members),
        "next_session": start.astimezone(zone(facility_zone_name(session))).isoformat(
            timespec="minutes"
        ),
        "expected_attendance": expected,
        "expected_present": None if expected is None else round(expected * len(members), 1),
        "suggested_enrolment": suggested,
        "room_for": None if suggested is None else max(0, suggested - len(members)),
    }


# --- the use cases the doors call ----------------------------------------------------------------


def train_model(
    db: Database, caller: Caller, now: datetime, *, held_out_weeks: int | None = None
) -> dict[str, Any]:
    """`rota risk train`: retrain now (whoever may run plans may retrain)."""
    authorize(db, caller, "run_plan")
    return retrain(db, now, actor=caller.staff_id, held_out_weeks=held_out_weeks)


def model_report(db: Database, caller: Caller) -> dict[str, Any] | None:
    """`rota risk show`: the model in force, its window and held-out metrics."""
    authorize(db, caller, "view_reports")
    return show(db)


def suggest_enrolment(db: Database, caller: Caller, group_id: str, now: datetime) -> dict[str, Any]:
    """`rota group show`: a group's expected attendance and how many to enrol."""
    authorize(db, caller, "view_reports")
    with db.read() as session:
        return enrolment_suggestion(session, group_id, now)
