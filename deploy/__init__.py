"""Build and deploy helpers: the offline wheelhouse, precompiled bytecode, and the package/deploy commands.

Run from the repository root with the project's venv (`make wheelhouse`, `make package`, `make deploy`).
Nothing here is deployed: chalice packages only app.py, chalicelib/ and requirements.txt.
"""
