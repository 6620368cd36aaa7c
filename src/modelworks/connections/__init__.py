"""Connections: where data comes from (the local upload store, PostgreSQL, S3-compatible storage).

Credentials are encrypted at rest with a key kept outside the database (see ``secrets.py``) and are
never returned by a page or the API.
"""
