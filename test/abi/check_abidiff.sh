#!/bin/sh
# ABI check of the shared library against the committed description (run by `make check`):
# abidiff (abigail-tools) compares the types and functions reachable from include/igq/igq.h.
#   - no change, or compatible changes (added functions, enum values appended): pass, and
#     for additions a reminder to record them with `make update-abi`;
#   - an incompatible change (a removed function, a changed signature or public type): fail.
#     Such a change needs a SONAME bump (IGQ_VERSION_MAJOR) and then `make update-abi`.
set -u
so=$1
ref=$2
if ! command -v abidiff >/dev/null 2>&1; then
    echo "check_abidiff: abidiff not found: sudo apt-get install -y abigail-tools" >&2
    exit 1
fi
out=$(abidiff --headers-dir1 include/igq --headers-dir2 include/igq "$ref" "$so" 2>&1)
rc=$?
if [ $((rc & 8)) -ne 0 ]; then
    echo "$out"
    echo "check_abidiff: INCOMPATIBLE ABI change against $ref (bump the SONAME, then make update-abi)" >&2
    exit 1
fi
if [ $((rc & 3)) -ne 0 ]; then
    echo "$out"
    echo "check_abidiff: abidiff failed (status $rc)" >&2
    exit 1
fi
if [ $((rc & 4)) -ne 0 ]; then
    echo "$out"
    echo "check_abidiff: compatible ABI changes (additions): record them with make update-abi"
else
    echo "check_abidiff: ABI unchanged against $ref"
fi
