#!/bin/sh
# Exported-symbol and ELF checks of the shared library (run by `make check`).
#   1. the dynamic symbols defined by libigq.so equal test/abi/exported.txt
#   2. the SONAME is libigq.so.<MAJOR>
#   3. the stack is not executable
set -eu
so=$1
list=$2
tmp=$(mktemp)
trap 'rm -f "$tmp"' EXIT
nm -D --defined-only "$so" | awk '$2 == "T" || $2 == "D" || $2 == "B" || $2 == "R" {print $3}' \
    | sed 's/@.*//' | sort -u > "$tmp"
if ! diff -u "$list" "$tmp"; then
    echo "check_symbols: exported symbols differ from $list (left: committed, right: built)" >&2
    exit 1
fi
if grep -qv '^igq_' "$tmp"; then
    echo "check_symbols: a non-igq_ symbol is exported" >&2
    exit 1
fi
soname=$(readelf -d "$so" | sed -n 's/.*Library soname: \[\(.*\)\]/\1/p')
case "$soname" in
    libigq.so.[0-9]*) ;;
    *) echo "check_symbols: bad SONAME '$soname'" >&2; exit 1 ;;
esac
if readelf -lW "$so" | grep GNU_STACK | grep -q 'RWE'; then
    echo "check_symbols: executable stack" >&2
    exit 1
fi
echo "check_symbols: $(wc -l < "$tmp") exported symbols match, SONAME $soname, stack not executable"
