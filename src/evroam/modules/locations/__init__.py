"""OCPI module `locations`."""
