"""The mlops-fc command line."""
