"""Browser tests: the admin UI in the system Chromium, driven by Playwright, against the
real app under uvicorn."""

# The Debian package's binary (apt-get install -y chromium); never `playwright install`.
CHROMIUM = "/usr/bin/chromium"
