"""Production plumbing every deployable shares: settings, Kafka and Redis clients, topic admin."""
