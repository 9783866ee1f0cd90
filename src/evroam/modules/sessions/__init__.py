"""OCPI module `sessions`."""
