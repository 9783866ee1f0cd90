"""OCPI module `cdrs`."""
