"""The test Google issuer lives in local_google (the dev stand-in uses the same code)."""

from local_google.issuer import GoogleIssuer, SigningKey

__all__ = ["GoogleIssuer", "SigningKey"]
