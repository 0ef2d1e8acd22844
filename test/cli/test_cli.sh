#!/bin/sh
# End-to-end tests of the igq command-line tool on the bundled Fashion-MNIST model: every
# subcommand's output is checked (not only its exit status) against facts of the model
# (examples/data/README.md) or against figures test/cli/cli_ref computes with the library API
# alone. Usage: sh test/cli/test_cli.sh [build dir]   (make test-cli)
set -u
O=${1:-build}
IGQ=$O/igq
REF=$O/test/cli_ref
D=examples/data
M=$D/fmnist_vit.safetensors
IMG=$D/t10k-images-idx3-ubyte
LAB=$D/t10k-labels-idx1-ubyte
CAL=$D/calib-images-idx3-ubyte
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
pass=0
fail=0
rc=0

# run CMD...: stdout in $T/out, stderr in $T/err, exit status in $rc
run() {
    "$@" > "$T/out" 2> "$T/err"
    rc=$?
}
ok() {
    pass=$((pass + 1))
    echo "ok   $1"
}
bad() {
    fail=$((fail + 1))
    echo "FAIL $1 (exit status $rc)"
    sed 's/^/     out| /' "$T/out" | tail -15
    sed 's/^/     err| /' "$T/err" | tail -8
}
check() { # check NAME CONDITION...: CONDITION is a command
    name=$1
    shift
    if "$@"; then ok "$name"; else bad "$name"; fi
}
out_has() { grep -q -F -- "$1" "$T/out"; }
err_has() { grep -q -F -- "$1" "$T/err"; }
out_re() { grep -q -E -- "$1" "$T/out"; }
last_is() { [ "$(tail -n 1 "$T/out")" = "$1" ]; }
rc_is() { [ "$rc" -eq "$1" ]; }
# top-1 label printed by igq run for the image listed at position $1 (1-based)
top1_of() {
    awk -v want="$1" '/^[^ ]/ { n++ } n == want && /^ +1\. / {
        sub(/^ +1\. /, ""); sub(/  +[0-9.]+ %.*/, ""); print; exit }' "$T/out"
}

[ -x "$IGQ" ] && [ -x "$REF" ] || { echo "test_cli: build $IGQ and $REF first (make test-cli)"; exit 1; }

# ---- help and version --------------------------------------------------------------------
run "$IGQ" --help
check "igq --help lists every command" sh -c 'rc=$0; [ "$rc" -eq 0 ] && for c in info quantize eval run bench report; do grep -q "^  $c " "$1" || exit 1; done' "$rc" "$T/out"
run "$IGQ" --version
check "igq --version" rc_is 0
check "igq --version prints the version" out_re '^igq [0-9]+\.[0-9]+\.[0-9]+ '
for c in info quantize eval run bench report; do
    run "$IGQ" "$c" --help
    check "igq $c --help" sh -c '[ "$0" -eq 0 ] && head -n 1 "$1" | grep -q "^usage: igq $2"' "$rc" "$T/out" "$c"
done

# ---- usage errors: exit 2 with a message and the synopsis ----------------------------------
usage_case() { # usage_case NAME EXPECTED-STDERR ARGS...
    name=$1
    msg=$2
    shift 2
    run "$IGQ" "$@"
    if [ "$rc" -eq 2 ] && err_has "$msg" && { err_has "usage: igq" || err_has "usage: igq COMMAND"; }; then
        ok "usage error: $name"
    else
        bad "usage error: $name"
    fi
}
usage_case "no command" "usage: igq COMMAND"
usage_case "unknown command" "unknown command 'frobnicate'" frobnicate
usage_case "unknown option" "unknown option '--bogus'" eval "$M" --images "$IMG" --bogus
usage_case "unknown short option" "unknown option '-z'" info -z "$M"
usage_case "missing value" "option '--images' needs a value" eval "$M" --images
usage_case "bad number" "'abc' is not an integer" eval "$M" --images "$IMG" --limit abc
usage_case "number with trailing text" "'5x' is not an integer" bench "$M" --batch 5x
usage_case "number out of range" "0 is outside 1.." eval "$M" --images "$IMG" --limit 0
usage_case "bits out of range" "9 is outside 2..8" quantize "$M" -o "$T/x.igq" --calib "$CAL" --wbits 9
usage_case "bad seconds" "'fast' is not a number" bench "$M" --seconds fast
usage_case "bad calibrator" "is not minmax, percentile, mse or kl" quantize "$M" -o "$T/x.igq" --calib "$CAL" --calibrator best
usage_case "groups and budget" "--groups and --budget exclude each other" quantize "$M" -o "$T/x.igq" --calib "$CAL" --groups 4 --budget 4
usage_case "missing -o" "missing -o OUT.igq" quantize "$M" --calib "$CAL"
usage_case "missing MODEL" "missing MODEL" info
usage_case "missing IMAGE" "missing IMAGE" run "$M"
usage_case "flag with a value" "takes no value" bench "$M" --quiet=yes
[ ! -e "$T/x.igq" ] && ok "usage errors write no file" || bad "usage errors write no file"

# ---- failures: exit 1 with the library's message -----------------------------------------
run "$IGQ" info "$T/missing.safetensors"
check "missing model: exit 1, library message" sh -c '[ "$0" -eq 1 ] && grep -q "cannot load model" "$1" && grep -q "input/output error: cannot open" "$1" && grep -q "missing.safetensors" "$1"' "$rc" "$T/err"
head -c 5000 "$M" > "$T/trunc.safetensors"
run "$IGQ" info "$T/trunc.safetensors"
check "truncated checkpoint: exit 1, format message" sh -c '[ "$0" -eq 1 ] && grep -q "malformed or unsupported file format" "$1" && grep -q "trunc.safetensors" "$1"' "$rc" "$T/err"
printf 'this is not an image\n' > "$T/bad.png"
run "$IGQ" run "$M" "$T/bad.png"
check "corrupt image: exit 1, library message" sh -c '[ "$0" -eq 1 ] && grep -q "cannot read image" "$1" && grep -q "unknown image format" "$1"' "$rc" "$T/err"
run "$IGQ" run "$M" "$T/none.png"
check "missing image: exit 1" sh -c '[ "$0" -eq 1 ] && grep -q "none.png" "$1"' "$rc" "$T/err"
run "$IGQ" eval "$M" --images "$T/bad.png" --labels "$LAB"
check "eval of a file that is neither IDX nor a folder: exit 1" sh -c '[ "$0" -eq 1 ] && grep -q "neither a directory nor an IDX file" "$1"' "$rc" "$T/err"
run "$IGQ" eval "$M" --images "$IMG"
check "eval of IDX images without labels: exit 1" sh -c '[ "$0" -eq 1 ] && grep -q "accuracy needs" "$1"' "$rc" "$T/err"
run "$IGQ" quantize "$T/trunc.safetensors" -o "$T/y.igq" --calib "$CAL"
check "quantize of a corrupt model: exit 1, no output file" sh -c '[ "$0" -eq 1 ] && [ ! -e "$1" ]' "$rc" "$T/y.igq"

# ---- malformed image sources and labels files: exit 1, the reason named -------------------
src_case() { # src_case NAME EXPECTED-STDERR ARGS... (eval of the fp32 model)
    name=$1
    msg=$2
    shift 2
    run "$IGQ" eval "$M" "$@"
    if [ "$rc" -eq 1 ] && err_has "$msg"; then ok "malformed source: $name"; else bad "malformed source: $name"; fi
}
head -c 1000 "$IMG" > "$T/trunc-idx"
printf '\000\000\010\003\000\000\000\000\000\000\000\034\000\000\000\034' > "$T/zero-idx"
printf '\000\000\010\003\000\000\000\001\000\000\000\000\000\000\000\034' > "$T/zero-rows-idx"
printf '\000\000\010\003\000\000' > "$T/short-idx"
head -c 100 "$LAB" > "$T/trunc-lab"
printf '3\n7\nseven\n' > "$T/word.txt"
printf '3\n-1\n' > "$T/neg.txt"
printf '3\n12\n4\n' > "$T/big.txt"
mkdir -p "$T/empty" "$T/emptycls/a" "$T/emptycls/b"
echo "text" > "$T/emptycls/a/notes.txt"
src_case "truncated IDX images" "does not match the file size" --images "$T/trunc-idx" --labels "$LAB"
src_case "IDX with no images" "image count and sides must be at least 1" --images "$T/zero-idx" --labels "$LAB"
src_case "IDX with 0 rows" "image count and sides must be at least 1" --images "$T/zero-rows-idx" --labels "$LAB"
src_case "IDX header cut short" "neither a directory nor an IDX file" --images "$T/short-idx" --labels "$LAB"
src_case "labels file as images" "neither a directory nor an IDX file" --images "$LAB" --labels "$LAB"
src_case "truncated IDX labels" "IDX labels header (10000 labels) does not match the file size (100 bytes)" --images "$IMG" --labels "$T/trunc-lab"
src_case "text label not a number" "line 3: not a class index" --images "$IMG" --labels "$T/word.txt" --limit 3
src_case "negative text label" "line 2: not a class index" --images "$IMG" --labels "$T/neg.txt" --limit 2
src_case "label beyond the classes" "image 1 has class 12, the model has 10 classes" --images "$IMG" --labels "$T/big.txt" --limit 3
src_case "missing labels file" "cannot open" --images "$IMG" --labels "$T/nolabels"
src_case "empty folder" "holds no image files" --images "$T/empty"
src_case "class folders without images" "its class folders hold no image files" --images "$T/emptycls"

# ---- info ---------------------------------------------------------------------------------
run "$IGQ" info "$M"
check "info fp32: exit 0" rc_is 0
for line in "image        28x28, 1 channel" "patch        7 (16 patches + 1 prefix token = 17 tokens)" \
    "embed dim    128" "depth        6" "heads        4 (head dim 32)" "mlp dim      256" \
    "classes      10" "mean         0.2860" "std          0.3530" "interpolation bilinear" \
    "labels: 10 (T-shirt/top, Trouser, Pullover, Dress, Coat, ...)" "quantization: none (fp32)" \
    "format: checkpoint, fp32"; do
    check "info fp32 prints '$line'" out_has "$line"
done
size=$(wc -c < "$M" | tr -d ' ')
check "info prints the file size" out_has "file         $size bytes"

# ---- quantize (the demo's recipe) and info of the .igq ------------------------------------
W4=$T/w4a4.igq
run "$IGQ" quantize "$M" -o "$W4" --calib "$CAL" --num-calib 32 --wbits 4 --abits 4 --groups 8
check "quantize W4A4 G=8: exit 0, file written" sh -c '[ "$0" -eq 0 ] && [ -s "$1" ]' "$rc" "$W4"
check "quantize reports what it did" out_has "W4A4, IGQ G = 8, integer executor, calibrator minmax, from 32 images"
check "quantize progress (plain lines, stderr not a terminal)" sh -c 'grep -q "^observe: 100%" "$0" && grep -q "^weights: 100%" "$0"' "$T/err"
run "$IGQ" info "$W4"
check "info .igq: exit 0" rc_is 0
check "info .igq: format" out_has "format: .igq file, quantized"
check "info .igq: W4A4 IGQ G = 8" out_has "quantization: W4A4, group granularity, G = 8, integer executor"
check "info .igq: qkv_in 4 bits, 8 groups" out_re '^  qkv_in +4 +group +8 '
check "info .igq: softmax rows 8 groups" out_re '^  attn +4 +group +8 '
check "info .igq: fc2_in 8 groups" out_re '^  fc2_in +4 +group +8 '
check "info .igq: fc1 weights per channel (256)" out_re '^  fc1_weight +4 +channel +256 '
check "info .igq: head 8 bits" out_re '^  head_weight +8 +channel +10$'
check "info .igq: labels kept" out_has "labels: 10 (T-shirt/top, Trouser"
check "info .igq: provenance" out_has '"source": "examples/data/fmnist_vit.safetensors"'
run "$IGQ" quantize "$M" -o "$T/budget.igq" --calib "$CAL" --num-calib 8 --wbits 4 --abits 4 --budget 4 --exec sim --calibrator percentile -q
check "quantize --budget --exec sim -q: exit 0, quiet" sh -c '[ "$0" -eq 0 ] && [ ! -s "$1" ]' "$rc" "$T/err"
run "$IGQ" info "$T/budget.igq"
check "info: budget, simulated executor, percentile" sh -c 'grep -q "group budget 4 (G allocated per site), simulated executor" "$0" && grep -q "calibrator percentile" "$0"' "$T/out"

# ---- eval: equals the accuracy computed with the library alone -----------------------------
N=500
exp_fp=$("$REF" acc "$M" "$IMG" "$LAB" $N)
exp_q=$("$REF" qacc "$M" "$CAL" 32 4 4 8 "$IMG" "$LAB" $N)
check "cli_ref computed the reference accuracies" sh -c '[ -n "$0" ] && [ -n "$1" ]' "$exp_fp" "$exp_q"
run "$IGQ" eval "$M" --images "$IMG" --labels "$LAB" --limit $N
check "eval fp32 --limit $N: last line = library reference ($exp_fp)" sh -c '[ "$0" -eq 0 ] && [ "$(tail -n 1 "$1")" = "$2" ]' "$rc" "$T/out" "$exp_fp"
check "eval: accuracy line format" out_re '^accuracy: top-1 [0-9]+\.[0-9]{2} % top-5 [0-9]+\.[0-9]{2} % \(500 images\)$'
run "$IGQ" eval "$W4" --images "$IMG" --labels "$LAB" --limit $N
check "eval W4A4 .igq --limit $N: last line = in-process quantization ($exp_q)" sh -c '[ "$0" -eq 0 ] && [ "$(tail -n 1 "$1")" = "$2" ]' "$rc" "$T/out" "$exp_q"
run "$IGQ" eval "$W4" --images "$IMG" --labels "$LAB" --limit $N --threads 2 --batch 7
check "eval --threads 2 --batch 7: same result" last_is "$exp_q"
check "fp32 and W4A4 results differ (the test can tell them apart)" [ "$exp_fp" != "$exp_q" ]

# ---- image files: PGM, PNG, BMP written from the IDX test images --------------------------
for i in 0 1 2 3; do
    for e in pgm png bmp; do "$REF" write "$IMG" $i "$T/t$i.$e" || echo "cli_ref write failed"; done
done
run "$IGQ" run "$M" "$T/t0.pgm" "$T/t1.png" "$T/t2.bmp" "$T/t3.pgm" --top 3
check "run: exit 0" rc_is 0
for i in 0 1 2 3; do
    ref=$("$REF" class "$M" "$IMG" "$LAB" $i)
    truth=$(printf '%s' "$ref" | cut -f 1)
    pred=$(printf '%s' "$ref" | cut -f 2)
    got=$(top1_of $((i + 1)))
    check "run image $i: top-1 '$got' = library's prediction '$pred' = true class '$truth'" \
        sh -c '[ "$0" = "$1" ] && [ "$0" = "$2" ]' "$got" "$pred" "$truth"
done
check "run --top 3 prints 3 classes per image" sh -c '[ "$(grep -c "^ *[0-9]\. " "$0")" -eq 12 ]' "$T/out"
run "$IGQ" run "$M" "$T/t0.pgm" --top 10
check "run --top 10: probabilities sum to 100 %" sh -c "awk '/%/ { s += \$(NF - 5) } END { exit !(s > 99.9 && s < 100.1) }' \"\$0\"" "$T/out"
check "run --top 10: probabilities descending" sh -c "awk '/%/ { v = \$(NF - 5); if (n++ && v > prev) bad = 1; prev = v } END { exit bad || n != 10 }' \"\$0\"" "$T/out"
for e in pgm png bmp; do
    run "$IGQ" run "$M" "$T/t0.$e" --top 10
    tail -n 10 "$T/out" > "$T/t0.$e.top"
done
check "the same image as PGM, PNG and BMP gives the same classes and probabilities" \
    sh -c 'cmp -s "$0.pgm.top" "$0.png.top" && cmp -s "$0.pgm.top" "$0.bmp.top"' "$T/t0"
usage_case "run --top above the classes" "the model has 10 classes" run "$M" "$T/t0.pgm" --top 11

# ---- eval on folders: one subfolder per class, and flat with a labels file -----------------
NF=40
od -An -v -tu1 -j8 -N$NF "$LAB" | tr -s ' ' '\n' | sed '/^$/d' > "$T/labels.txt"
mkdir -p "$T/cls" "$T/flat"
i=0
while read -r l; do
    mkdir -p "$T/cls/c$l"
    n=$(printf '%03d' $i)
    case $((i % 3)) in 0) e=png ;; 1) e=pgm ;; *) e=bmp ;; esac
    "$REF" write "$IMG" $i "$T/cls/c$l/img$n.$e"
    "$REF" write "$IMG" $i "$T/flat/img$n.$e"
    i=$((i + 1))
done < "$T/labels.txt"
echo "not an image, skipped by extension" > "$T/flat/README.txt"
exp_dir=$("$REF" acc "$M" "$IMG" "$LAB" $NF)
# class folders c0..c9: sorted names = class index (every class occurs in the first 40 images)
run "$IGQ" eval "$M" --images "$T/cls"
check "eval of class folders = library reference ($exp_dir)" sh -c '[ "$0" -eq 0 ] && [ "$(tail -n 1 "$1")" = "$2" ]' "$rc" "$T/out" "$exp_dir"
run "$IGQ" eval "$M" --images "$T/cls" --threads 3 --batch 9
check "eval of class folders, 3 threads decoding, batch 9 = reference" last_is "$exp_dir"
run "$IGQ" eval "$M" --images "$T/flat" --labels "$T/labels.txt"
check "eval of a flat folder with a text labels file = reference" sh -c '[ "$0" -eq 0 ] && [ "$(tail -n 1 "$1")" = "$2" ]' "$rc" "$T/out" "$exp_dir"
run "$IGQ" eval "$M" --images "$T/flat" --labels "$LAB"
check "eval of a flat folder with an IDX labels file = reference" last_is "$exp_dir"
run "$IGQ" eval "$M" --images "$T/flat"
check "eval of a flat folder without labels: exit 1, says why" sh -c '[ "$0" -eq 1 ] && grep -q "give --labels FILE" "$1"' "$rc" "$T/err"
mkdir -p "$T/flatbad"
cp "$T"/flat/img00* "$T/flatbad/"
cp "$T/bad.png" "$T/flatbad/img0055.png"
run "$IGQ" eval "$M" --images "$T/flatbad" --labels "$T/labels.txt" --threads 2 --batch 8
check "eval: a corrupt image in a folder (threaded decoding): exit 1, names it" sh -c '[ "$0" -eq 1 ] && grep -q "img0055.png.*unknown image format" "$1"' "$rc" "$T/err"
head -n 10 "$T/labels.txt" > "$T/short.txt"
run "$IGQ" eval "$M" --images "$T/flat" --labels "$T/short.txt"
check "eval with too few labels: exit 1" sh -c '[ "$0" -eq 1 ] && grep -q "has 10 labels for 40 images" "$1"' "$rc" "$T/err"
run "$IGQ" quantize "$M" -o "$T/dir.igq" --calib "$T/cls" --num-calib 41
check "quantize --num-calib above the images: exit 1" sh -c '[ "$0" -eq 1 ] && grep -q "holds only 40 images" "$1"' "$rc" "$T/err"
run "$IGQ" quantize "$M" -o "$T/dir.igq" --calib "$T/cls" --num-calib 2
check "quantize from class folders, first 2 images: exit 0, notes they are of one class" sh -c '[ "$0" -eq 0 ] && grep -q "note: the first 2 images are all of class .c0.; --calib-pick spread" "$1"' "$rc" "$T/err"
run "$IGQ" quantize "$M" -o "$T/dir.igq" --calib "$T/cls" --num-calib 10 --calib-pick spread --wbits 6 --abits 6 -q
check "quantize from a folder (spread pick): exit 0" sh -c '[ "$0" -eq 0 ] && [ -s "$1" ]' "$rc" "$T/dir.igq"

# ---- bench --------------------------------------------------------------------------------
run "$IGQ" bench "$W4" --batch 4 --seconds 0.3 --threads 2 -q
check "bench: exit 0" rc_is 0
check "bench: table" sh -c 'grep -q "^ *median *min *max$" "$0" && grep -Eq "^ms/image( +[0-9.]+){3}$" "$0" && grep -Eq "^images/s( +[0-9.]+){3}$" "$0"' "$T/out"
check "bench: min <= median <= max, images/s = 1000 / (ms/image)" sh -c "awk '
    /^ms\\/image/ { med = \$2; lo = \$3; hi = \$4 }
    /^images\\/s/ { ips = \$2; ilo = \$3; ihi = \$4 }
    END { r = ips * med / 1000; exit !(lo <= med && med <= hi && ilo <= ips && ips <= ihi && r > 0.99 && r < 1.01) }' \"\$0\"" "$T/out"
check "bench: runs and images" out_re '^[0-9]+ runs, [0-9]+ images in [0-9.]+ s$'

# ---- report -------------------------------------------------------------------------------
report_case() { # report_case MODEL LABEL
    run "$IGQ" report "$1" --image "$T/t0.png" --svg "$T/r.svg" --runs 2 --machine-seconds 0.05
    check "report $2: exit 0" rc_is 0
    nref=$("$REF" layers "$1")
    rows=$(grep -Ec '^ *[0-9]+  [^ ]+ +(patch_embed|layernorm|quantize|linear|attention|gelu|residual|head) ' "$T/out")
    check "report $2: $rows table rows = igq_session_profile's $nref layers" [ "$rows" = "$nref" ]
    check "report $2: every row is compute- or memory-bound" sh -c '[ "$(grep -Ec " (compute|memory)$" "$0")" = "$1" ]' "$T/out" "$nref"
    check "report $2: 'layers:' line" out_has "layers: $nref,"
    check "report $2: SVG written" sh -c 'grep -q "<svg" "$0" && grep -q "id=\"roofline\"" "$0" && grep -q "id=\"time-per-kind\"" "$0" && grep -q "id=\"groups\"" "$0"' "$T/r.svg"
    if command -v xmllint > /dev/null 2>&1; then
        check "report $2: xmllint --noout accepts the SVG" xmllint --noout "$T/r.svg"
    else
        echo "skip report $2: xmllint missing (apt-get install libxml2-utils)"
    fi
}
report_case "$W4" "W4A4"
# groups: 5 IGQ sites (qkv_in, attn, proj_in, fc1_in, fc2_in) x 6 blocks; members add up to
# the site's channels (D = 128, MLP = 256) or softmax rows (4 heads x 17 tokens = 68)
check "report: groups of 30 sites" sh -c '[ "$(grep -c "^  blocks\.[0-9] .* G=8 " "$0")" -eq 30 ]' "$T/out"
check "report: group members add up to the site's channels / rows" sh -c "awk '
    /^  blocks\\.[0-9] / { s = 0; for (i = 4; i <= NF; i++) s += \$i
        want = \$2 == \"fc2_in\" ? 256 : \$2 == \"attn\" ? 68 : 128; if (s != want) bad = 1; n++ }
    END { exit bad || n != 30 }' \"\$0\"" "$T/out"
check "report: groups in the SVG" sh -c 'grep -q "block 5 fc2_in: group" "$0"' "$T/r.svg"
report_case "$M" "fp32"
usage_case "report: bad runs" "'x' is not an integer" report "$M" --runs x

echo "test_cli: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
