"""Cold start, warm latency and scaling of this app, side by side with the original it replaced.

`python -m bench --help`; bench/README.md says what each number means.
"""
