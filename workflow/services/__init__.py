"""Use cases. Each validates, authorizes, changes rows and flushes; the caller commits."""
