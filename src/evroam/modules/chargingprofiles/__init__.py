"""OCPI module `chargingprofiles`."""
