"""OCPI module `tokens`."""
