"""The OKR domain: models, state machines, services, policies and computation.

Nothing in this package knows about HTTP or GraphQL (DESIGN §6).
"""
