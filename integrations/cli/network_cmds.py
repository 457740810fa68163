"""`rota network …`: the facilities of a network on one PostgreSQL database, the people who
work at several, travel minutes between sites, network-wide grants (assistant.tenancy)."""

from __future__ import annotations

import json
from typing import Annotated

import typer

from assistant import tenancy
from clinic.db import open_database
from clinic.errors import InvalidInput
from integrations.cli import identity

network_app = typer.Typer(
    help="A network of facilities: list, link a person's sites, travel minutes, grants.",
    add_completion=False,
)


def _sites(pairs: list[str]) -> dict[str, str]:
    sites: dict[str, str] = {}
    for pair in pairs:
        facility, sep, staff = pair.partition(":")
        if not sep or not facility or not staff:
            raise InvalidInput(f"{pair!r} is not FACILITY:STAFF_ID (e.g. north:s001)")
        sites[facility] = staff
    if len(sites) < 2:
        raise InvalidInput("name the person's staff id at two facilities or more")
    return sites


def register(app: typer.Typer) -> None:
    app.add_typer(network_app, name="network")

    @network_app.command("list")
    def listing(
        as_json: Annotated[bool, typer.Option("--json", help="Machine-readable output.")] = False,
    ) -> None:
        """The network's facilities (id, name, schema); none on a one-facility database."""
        rows = tenancy.listing(open_database(facility=""))
        if as_json:
            typer.echo(json.dumps(rows, indent=2))
            return
        if not rows:
            typer.echo("no network here: `rota load FILE --facility ID` starts one (PostgreSQL)")
        for row in rows:
            typer.echo(f"{row['id']:<16} {row['name']:<40} {row['schema']}")

    @network_app.command("link")
    def link(
        person: Annotated[str, typer.Argument(help="A name for the person across sites.")],
        sites: Annotated[
            list[str], typer.Argument(help="FACILITY:STAFF_ID at each site (two or more).")
        ],
    ) -> None:
        """One person working at several facilities: the solver and booking keep their
        sessions at every site apart, with the travel minutes between sites."""
        db = open_database(facility="")
        identity.acting(db)
        tenancy.link_person(db, person, _sites(sites))
        typer.echo(f"linked {person}: " + ", ".join(sites))

    @network_app.command("travel")
    def travel(
        first: Annotated[str, typer.Argument(help="A facility id.")],
        second: Annotated[str, typer.Argument(help="Another facility id.")],
        minutes: Annotated[int, typer.Argument(min=0, help="Minutes between the two sites.")],
    ) -> None:
        """Travel minutes between two sites (both ways)."""
        db = open_database(facility="")
        identity.acting(db)
        tenancy.set_travel(db, first, second, minutes)
        typer.echo(f"{first} <-> {second}: {minutes} minutes")

    @network_app.command("grant")
    def grant(
        facility: Annotated[str, typer.Argument(help="The person's own facility.")],
        staff: Annotated[str, typer.Argument(help="Their staff id there.")],
        role: Annotated[str, typer.Argument(help="The role at every facility, e.g. director.")],
    ) -> None:
        """A role at every facility of the network for a person of one (a network director)."""
        db = open_database(facility="")
        who = identity.acting(db)
        tenancy.grant_network_role(db, facility, staff, role, who)
        typer.echo(f"{staff} of {facility} holds {role} at every facility of the network")
