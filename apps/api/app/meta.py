"""Identity of this service, reported by /health."""

SERVICE_NAME = "shipyard-api"
