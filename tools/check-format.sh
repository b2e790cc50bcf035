#!/bin/sh
# Checks that every C file of the tree follows .clang-format (the generated oracle fixtures excepted).
# Fix with: clang-format -i FILE...
cd "$(dirname "$0")/.." || exit 1
files=$(git ls-files '*.c' '*.h' | grep -v -e '^tests/fixtures/.*_fixtures\.h$' -e '^tests/reference/.*_fixture\.h$')
clang-format --dry-run --Werror $files
