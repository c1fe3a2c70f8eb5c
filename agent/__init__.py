"""One conversation turn: understand, route, retrieve, compose, verify, decide (next issue)."""
