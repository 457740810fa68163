"""OR-Tools CP-SAT optimization: what could happen, best first. Pure; plain data only."""
