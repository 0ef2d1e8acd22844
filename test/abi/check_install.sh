#!/bin/sh
# Staged install + out-of-tree build of an example with pkg-config, then uninstall.
set -eu
CC=${1:-cc}
O=${2:-build}
top=$(pwd)
stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
prefix=/opt/igqtest
make --no-print-directory -s O="$O" install DESTDIR="$stage" PREFIX="$prefix" >/dev/null
for f in include/igq/igq.h lib/libigq.a lib/libigq.so lib/pkgconfig/igq.pc bin/igq; do
    test -e "$stage$prefix/$f" || { echo "check_install: missing $prefix/$f" >&2; exit 1; }
done
so=$(ls "$stage$prefix"/lib/libigq.so.*.*.*)
test -L "$stage$prefix/lib/libigq.so" && test -L "$stage$prefix"/lib/libigq.so.[0-9]
# The installed tool runs from the prefix (linked statically: no library path needed).
test -x "$stage$prefix/bin/igq" || { echo "check_install: $prefix/bin/igq is not executable" >&2; exit 1; }
"$stage$prefix/bin/igq" --help > "$stage/igq-help.txt" || { echo "check_install: igq --help failed" >&2; exit 1; }
grep -q "^usage: igq COMMAND" "$stage/igq-help.txt" || { cat "$stage/igq-help.txt"; echo "check_install: igq --help output unexpected" >&2; exit 1; }
"$stage$prefix/bin/igq" --version | grep -q "^igq $(sed -n 's/^#define IGQ_VERSION_MAJOR \([0-9]*\).*/\1/p' include/igq/igq.h)\." \
    || { echo "check_install: igq --version output unexpected" >&2; exit 1; }
rm -f "$stage/igq-help.txt"
export PKG_CONFIG_PATH="$stage$prefix/lib/pkgconfig"
export PKG_CONFIG_SYSROOT_DIR="$stage"
pkg-config --exists igq
flags=$(pkg-config --cflags --libs igq)
# Out of tree: copy the example somewhere else and build it only with what pkg-config says.
mkdir "$stage/src"
cp "$top/examples/classify.c" "$stage/src/"
cd "$stage/src"
$CC -std=c99 -Wall -Wextra -Wpedantic -Werror classify.c -o classify $flags
LD_LIBRARY_PATH="$stage$prefix/lib" ./classify "$top/test/fixtures/timm_vit/model.safetensors" > out.txt
grep -q "top-1" out.txt || { cat out.txt; echo "check_install: example output unexpected" >&2; exit 1; }
ldd ./classify | grep -q "$stage$prefix/lib/libigq.so" || LD_LIBRARY_PATH="$stage$prefix/lib" ldd ./classify | grep -q libigq.so.0
# The header compiles as strict C99 and as C++.
printf '#include <igq/igq.h>\nint main(void){return igq_version_number() == IGQ_VERSION_NUMBER ? 0 : 1;}\n' > hdr.c
$CC -std=c99 -Wall -Wextra -Wpedantic -Werror hdr.c -o hdr_c $flags
if command -v c++ >/dev/null 2>&1; then
    cp hdr.c hdr.cpp
    c++ -std=c++11 -Wall -Wextra -Wpedantic -Werror hdr.cpp -o hdr_cpp $flags
    LD_LIBRARY_PATH="$stage$prefix/lib" ./hdr_cpp
fi
LD_LIBRARY_PATH="$stage$prefix/lib" ./hdr_c
cd "$top"
make --no-print-directory -s O="$O" uninstall DESTDIR="$stage" PREFIX="$prefix" >/dev/null
left=$(find "$stage$prefix" -type f -o -type l)
if [ -n "$left" ]; then echo "check_install: uninstall left: $left" >&2; exit 1; fi
echo "check_install: staged install, bin/igq --help and --version, pkg-config build of examples/classify.c, C/C++ header, uninstall: ok"
