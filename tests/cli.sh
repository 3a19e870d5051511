#!/bin/sh
# placeholder, replaced by the CLI test suite
echo "0 passed, 0 failed"
