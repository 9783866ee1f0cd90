"""OCPI module `versions`."""
