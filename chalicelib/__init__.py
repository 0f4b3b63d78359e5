"""Job Hunt Tracker API: everything app.py's route table uses.

web.py is the request pipeline and the only module here that imports chalice; the rest (settings,
auth, the use cases in tracker.py, the stores) knows nothing of HTTP frameworks.
"""

__version__ = "2.0.0"
