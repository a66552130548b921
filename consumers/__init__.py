"""How people use the system: result sink and store, topic readers, the flows view.

consumers/ reads what the pipeline writes (results, lifecycle, drift, records) and publishes
only prediction requests; it never imports inference/ or retrainer/: they talk through Kafka.
"""
