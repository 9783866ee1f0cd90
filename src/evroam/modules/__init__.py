"""One package per OCPI module: canonical models, wire converters, rules and HTTP handlers."""
