"""The outside world's plumbing: settings, client factories, topic admin and the local stack."""
