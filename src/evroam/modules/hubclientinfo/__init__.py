"""OCPI module `hubclientinfo`."""
