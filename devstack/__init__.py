"""The local launcher: the Kafka broker, redis-server and MLflow processes, and services as children."""
