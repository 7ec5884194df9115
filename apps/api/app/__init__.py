"""The reference API: items in PostgreSQL, a view counter in Redis, health and readiness probes."""
