"""A month of clinic life (bench/simulate.py): exogenous events drawn once (events), two
policies (policies), a world that lives the days through the use cases (world), and what it
achieved (metrics)."""
