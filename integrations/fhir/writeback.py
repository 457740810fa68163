"""The "fhir" outbox channel's sender: one Rota appointment written to the EHR as a FHIR
Appointment (assistant.fhir_writeback decides what and when; this says how).

The first time, a conditional create by Rota's business identifier (`If-None-Exist:
identifier=urn:rota:<facility>:appointment|<id>`), so a try whose answer was lost never makes a
second Appointment; then an update of that logical id `If-Match` the ETag Rota last wrote. A 412
means the EHR's Appointment changed since: it is read again and reported as a conflict, never
overwritten. Unreachable, slow or 5xx servers raise, and the outbox tries again with its backoff.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

from assistant import fhir_writeback
from assistant.fhir_writeback import Link, PushConflict, Pushed, PushItem, PushRejected, etag_of
from integrations.fhir.client import (
    Answer,
    FhirClient,
    FhirGone,
    FhirNotFound,
    FhirRejected,
    FhirVersionConflict,
    configured,
    identifier_search,
)
from integrations.fhir.mapping import FhirContext, appointment_to_fhir, fhir_id

Json = dict[str, Any]
_VOLATILE = ("id", "meta", "text")  # what a server adds: not part of what Rota says


class AppointmentPusher:
    """Writes appointments to one FHIR server (`fhir_writeback.Pusher`)."""

    def __init__(self, client: FhirClient) -> None:
        self.client = client
        self.server = client.server

    def __call__(self, item: PushItem) -> Pushed:
        ctx = FhirContext.for_facility(item.facility)
        resource = _their_ids(appointment_to_fhir(item.record, ctx), item)
        try:
            if item.overwrite and item.link is not None:
                now = self.client.read("Appointment", item.link.fhir_id)
                return self._update(resource, Link(item.link.fhir_id, now.version_id, now.etag))
            if item.link is None:
                return self._create(resource, ctx.system("appointment"), item.appointment_id)
            return self._update(resource, item.link)
        except FhirRejected as exc:  # 4xx but the conflicts, handled above
            raise PushRejected(str(exc)) from exc

    def _create(self, resource: Json, system: str, appointment_id: str) -> Pushed:
        resource = {k: v for k, v in resource.items() if k != "id"}  # the server names it
        answer = self.client.create(
            resource, if_none_exist=identifier_search(system, appointment_id)
        )
        found = answer.resource or {}
        if answer.created or _same(found, resource):
            return _pushed(answer)
        # It was there already (an earlier try whose answer was lost, or a link forgotten):
        # Rota's identifier says it is Rota's own, so Rota brings it up to date, If-Match the
        # version just read.
        return self._update(resource, Link(str(answer.logical_id), answer.version_id, answer.etag))

    def _update(self, resource: Json, link: Link) -> Pushed:
        resource = {**resource, "id": link.fhir_id}
        try:
            answer = self.client.update(resource, if_match=link.etag or etag_of(link.version_id))
        except FhirVersionConflict as exc:
            now = self._now(link.fhir_id)
            if now is not None and _same(now.resource or {}, resource):
                # Rota's own write whose answer was lost (or sent twice): the server already
                # says what Rota says, so it is written, at the server's version.
                return _pushed(now)
            raise PushConflict(
                f"Appointment/{link.fhir_id} was changed on the EHR since Rota wrote version "
                f"{link.version_id}; not overwritten",
                server_version=now.version_id if now else None,
            ) from exc
        except FhirNotFound as exc:
            gone = "deleted" if isinstance(exc, FhirGone) else "not found"
            raise PushConflict(
                f"Appointment/{link.fhir_id} was {gone} on the EHR; not written again"
            ) from exc
        return _pushed(answer)

    def _now(self, fhir_id: str) -> Answer | None:
        """The EHR's Appointment now, after a 412 (None: it could not be read)."""
        try:
            return self.client.read("Appointment", fhir_id)
        except FhirRejected:
            return None


def _their_ids(resource: Json, item: PushItem) -> Json:
    """Participants the server knows under its own logical ids (imported from it) referenced
    by those ids; the others by Rota's (`Patient/<Rota id>`, as the mapping writes them)."""
    record = item.record
    ours = {
        f"{t}/{fhir_id(rota_id)}": (t, rota_id)
        for t, ids in (
            ("Practitioner", record.get("staff", [])),
            ("Patient", record.get("patients", [])),
            ("Location", [record["room"]] if record.get("room") else []),
        )
        for rota_id in ids
    }
    for participant in resource.get("participant", []):
        actor = participant.get("actor") or {}
        theirs = item.known.get(ours.get(actor.get("reference", ""), ("", "")))
        if theirs:
            actor["reference"] = f"{ours[actor['reference']][0]}/{theirs}"
    return resource


def _same(found: Json, resource: Json) -> bool:
    strip = lambda r: {k: v for k, v in r.items() if k not in _VOLATILE}  # noqa: E731
    return strip(found) == strip(resource)


def _pushed(answer: Answer) -> Pushed:
    if not answer.logical_id:
        raise PushRejected("the server's answer named no Appointment id")
    meta = (answer.resource or {}).get("meta") or {}
    return Pushed(
        answer.logical_id,
        answer.version_id,
        answer.etag or etag_of(answer.version_id),
        answer.created,
        meta.get("lastUpdated"),
    )


def configure(env: Mapping[str, str] | None = None) -> str | None:
    """Give the write-back job a sender when the environment names a FHIR server
    (ROTA_FHIR_BASE_URL); the server, or None (write-back off)."""
    env = os.environ if env is None else env
    if not configured(env):
        fhir_writeback.use_pusher(None)
        return None
    pusher = AppointmentPusher(FhirClient.from_env(env))
    fhir_writeback.use_pusher(pusher)
    return pusher.server
