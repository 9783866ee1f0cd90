"""Getting data across: pull sync from peers' Sender interfaces (and, later, pushes and the outbox)."""
