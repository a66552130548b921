"""The REST facade (FastAPI): request-reply predictions over Kafka, lookups, flows page."""
