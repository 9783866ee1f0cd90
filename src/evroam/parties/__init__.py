"""Own parties, peers, the credentials handshake (served and initiated) and version negotiation."""
