"""Stand-ins for outside services, real enough to talk to over the network."""
