#!/bin/sh
# Headless Chromium for the HTML report test (tests/integration/eval-report.test.ts); Debian package, run as root.
set -e
if command -v chromium >/dev/null 2>&1; then exit 0; fi
apt-get update
DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends chromium
