"""Storage: one Store protocol (base.py) and its implementations, sqlite.py and dynamodb.py."""
