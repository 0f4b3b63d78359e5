"""A local stand-in for Google Sign-In, for development and tests only.

It is never packaged (chalice packages app.py and chalicelib/ only), and a production stage
refuses any certs source but Google's, so nothing signed here can sign anyone in on prod.
"""
