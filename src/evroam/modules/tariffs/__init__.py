"""OCPI module `tariffs`."""
