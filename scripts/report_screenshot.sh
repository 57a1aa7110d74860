#!/bin/sh
# Regenerate the README's picture of the report: the HTML report on the first article's code as published.
# Needs gradcheck installed (the README's first command) and Debian's chromium package.
set -e
cd "$(dirname "$0")/.."
gradcheck="${GRADCHECK:-.venv/bin/gradcheck}"
# exit code 1 is expected: the article's code has bugs
"$gradcheck" report examples/blog_buggy.py:target -o reports/blog_buggy.html || [ $? -eq 1 ]
profile="$(mktemp -d)"
chromium --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
    --disable-background-networking --disable-component-update --disable-sync \
    --user-data-dir="$profile" --hide-scrollbars --window-size=1000,1400 \
    --screenshot=docs/images/blog_buggy_report.png "file://$PWD/reports/blog_buggy.html"
rm -rf "$profile"
echo "wrote docs/images/blog_buggy_report.png"
