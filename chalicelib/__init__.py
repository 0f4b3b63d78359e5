"""Job Hunt Tracker API: everything below the HTTP layer.

Nothing in this package imports chalice: app.py is the only place that knows about it.
"""

__version__ = "2.0.0"
