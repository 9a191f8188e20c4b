"""Figures of DESIGN §3: pure functions over rows, so they are cheap to compute in bulk."""
