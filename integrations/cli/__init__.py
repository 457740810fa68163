"""The command line: `rota ...` (typer)."""
