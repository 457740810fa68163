"""`rota waitlist add|list|withdraw|offers|accept`: patients waiting for a freed time, and the
offers a cancellation made them (the first to accept books it)."""

from __future__ import annotations

import json
from typing import Annotated

import typer

from assistant.usecases import waitlist
from clinic.db import open_database
from clinic.timeutil import parse_date
from integrations.cli import identity

ACTOR_HELP = "Who is asking (a staff id); recorded in the audit log."


def register(app: typer.Typer) -> None:
    group = typer.Typer(
        help="The waitlist: who waits for which session, and the offers of freed times.",
        add_completion=False,
    )
    app.add_typer(group, name="waitlist")

    @group.command("add")
    def add(
        patient: Annotated[str, typer.Argument(help="The patient's id.")],
        session_type: Annotated[str, typer.Option("--type", help="Session type id.")] = (
            "individual"
        ),
        staff: Annotated[str | None, typer.Option(help="Only with this clinician.")] = None,
        days: Annotated[str | None, typer.Option(help="Weekdays, e.g. tue,thu.")] = None,
        time_from: Annotated[str | None, typer.Option("--from", help="From HH:MM.")] = None,
        time_until: Annotated[str | None, typer.Option("--until", help="Ends by HH:MM.")] = None,
        earliest: Annotated[str | None, typer.Option(help="Not before YYYY-MM-DD.")] = None,
        latest: Annotated[str | None, typer.Option(help="Not after YYYY-MM-DD.")] = None,
        priority: Annotated[int, typer.Option(help="0 normal, 1 high, 2 urgent.")] = 0,
        note: Annotated[str | None, typer.Option(help="Why, for the case manager.")] = None,
        actor: Annotated[str, typer.Option(help=ACTOR_HELP)] = "operator",
    ) -> None:
        """Put a patient on the waitlist."""
        db = open_database()
        cmd = waitlist.AddEntry(
            patient=patient,
            session_type=session_type,
            staff=staff,
            days=tuple(d for d in (days or "").split(",") if d.strip()),
            time_from=time_from,
            time_until=time_until,
            earliest=parse_date(earliest) if earliest else None,
            latest=parse_date(latest) if latest else None,
            priority=priority,
            note=note,
        )
        entry = waitlist.add(db, identity.caller(db, actor), cmd)
        typer.echo(f"Entry {entry.id}: {entry.patient} waits for {entry.session_type}.")

    @group.command("list")
    def list_(
        status: Annotated[
            list[str] | None, typer.Option(help="waiting, offered, booked, withdrawn.")
        ] = None,
        patient: Annotated[str | None, typer.Option(help="Only this patient.")] = None,
        actor: Annotated[str, typer.Option(help=ACTOR_HELP)] = "operator",
        as_json: Annotated[bool, typer.Option("--json", help="Machine-readable output.")] = False,
    ) -> None:
        """Who is on the waitlist, oldest first."""
        db = open_database()
        cmd = waitlist.ListEntries(patient=patient)
        if status:
            cmd = waitlist.ListEntries(statuses=tuple(status), patient=patient)
        rows = waitlist.entries(db, identity.caller(db, actor), cmd)
        if as_json:
            typer.echo(json.dumps([waitlist.as_record(r) for r in rows], indent=2))
            return
        typer.echo(f"On the waitlist: {len(rows)}")
        for r in rows:
            window = " ".join(
                x
                for x in (
                    ",".join(r.days),
                    f"{r.time_from or ''}-{r.time_until or ''}".strip("-"),
                    f"with {r.staff}" if r.staff else "",
                )
                if x
            )
            typer.echo(
                f"  #{r.id} {r.patient} {r.session_type or 'session'} {window or 'any time'} "
                f"[{r.status}] since {r.created_at:%Y-%m-%d}"
            )

    @group.command("withdraw")
    def withdraw(
        entry_id: Annotated[int, typer.Argument(help="The entry's id (waitlist list).")],
        reason: Annotated[str | None, typer.Option(help="Why.")] = None,
        actor: Annotated[str, typer.Option(help=ACTOR_HELP)] = "operator",
    ) -> None:
        """Take a patient off the waitlist."""
        db = open_database()
        entry = waitlist.withdraw(
            db, identity.caller(db, actor), waitlist.Withdraw(entry_id, reason)
        )
        typer.echo(f"Entry {entry.id} ({entry.patient}) is withdrawn.")

    @group.command("offers")
    def offers(
        status: Annotated[
            list[str] | None,
            typer.Option(help="open (default), accepted, taken, declined, expired."),
        ] = None,
        actor: Annotated[str, typer.Option(help=ACTOR_HELP)] = "operator",
        as_json: Annotated[bool, typer.Option("--json", help="Machine-readable output.")] = False,
    ) -> None:
        """Offers of freed times, newest first, with their rank and why."""
        db = open_database()
        cmd = waitlist.ListOffers(statuses=tuple(status)) if status else waitlist.ListOffers()
        rows = waitlist.offers(db, identity.caller(db, actor), cmd)
        if as_json:
            typer.echo(json.dumps([waitlist.as_record(r) for r in rows], indent=2))
            return
        tz = db.facility_tz()
        typer.echo(f"Offers: {len(rows)}")
        for r in rows:
            why = ", ".join(f"{x['term']} {x['points']:g}" for x in r.reasons if x["points"])
            typer.echo(
                f"  #{r.id} {r.patient} {r.session_type or 'session'} "
                f"{r.start.astimezone(tz):%a %d %b %H:%M} "
                f"with {r.staff} [{r.status}, {r.channel}] rank {r.rank} score {r.score:g} ({why})"
            )

    @group.command("accept")
    def accept(
        offer_id: Annotated[int, typer.Argument(help="The offer's id (waitlist offers).")],
        actor: Annotated[str, typer.Option(help=ACTOR_HELP)] = "operator",
    ) -> None:
        """Book an offered time for its patient (first to accept wins)."""
        db = open_database()
        offer = waitlist.accept(db, identity.caller(db, actor), waitlist.AcceptOffer(offer_id))
        tz = db.facility_tz()
        typer.echo(
            f"Booked {offer.patient} on {offer.start.astimezone(tz):%a %d %b %H:%M} with "
            f"{offer.staff} (appointment {offer.appointment})."
        )
