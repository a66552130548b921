"""Event contracts: pydantic models, the topic catalogue and the wire codec."""
