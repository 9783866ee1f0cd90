"""OCPI module `commands`."""
