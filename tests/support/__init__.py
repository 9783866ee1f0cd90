"""Test support: in-process node networks, peers and process helpers."""
