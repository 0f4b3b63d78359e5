"""End-to-end tests: a real browser (headless Chromium via Playwright) against `chalice local`."""
