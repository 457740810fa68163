"""Declarative policy: what may happen, and why not. Depends on clinic."""
