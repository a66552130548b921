"""Producers: how data gets into Kafka (Transfermarkt CSV, synthetic generator, requests)."""
