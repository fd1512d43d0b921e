"""Data files shipped with brokerform: the broker capability matrix used by reports."""
