"""Django's PostgreSQL backend with the waits of a request bounded (base.py)."""
