"""OCPI module `credentials`."""
