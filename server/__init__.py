"""The okr-server process: HTTP app, settings, database, identity, scheduler and CLI."""
