# Opens a real report's index.html in headless Chromium and checks that
# every <img> (embedded as a data: URI) decoded (naturalWidth > 0): the page's inline script writes
# "loaded/total" into <body data-images> after window.onload, and
# --dump-dom prints the DOM after that. Skipped (exit 77) without Chromium.
CHROMIUM=""
for c in /usr/bin/chromium /usr/bin/chromium-browser; do
    [ -x "$c" ] && CHROMIUM=$c && break
done
if [ -z "$CHROMIUM" ]; then
    echo "SKIP: chromium not installed (apt-get install chromium)"
    exit 77
fi
source "$(dirname "$0")/run_common.sh"

cat > xor.yaml <<'YAML'
name: rep_chromium
data:
  source: xor
  augment: {repeat: 50, noise: 0.3}
  split: {test: 0.2, validation: 20}
model:
  layers:
    - {type: dense, units: 4, activation: relu}
    - {type: dense, units: 2, activation: softmax}
training: {loss: categorical_crossentropy, optimizer: adam, epochs: 10, batch_size: 32}
seeds: 2
sweep:
  hidden:
    path: model.layers[0].units
    values: [2, 4]
YAML
run --db "$DB" -q xor.yaml
expect_rc 0 "run"

# images_loaded DIR: what the page reports after loading, e.g. "8/8".
images_loaded() {
    local profile
    profile=$(mktemp -d "$WORK/profile.XXXXXX")
    # The DOM goes to a file first: piped into grep under pipefail, a page
    # without the attribute would end the script before the caller's message.
    timeout 120 "$CHROMIUM" --headless --no-sandbox --disable-gpu --no-first-run \
        --disable-background-networking --disable-component-update --disable-sync \
        --user-data-dir="$profile" --virtual-time-budget=5000 \
        --dump-dom "file://$1/index.html" >"$WORK/dom.html" 2>"$WORK/chromium.err" ||
        echo "chromium exited with status $?" >>"$WORK/chromium.err"
    sed -n -E 's/.*data-images="([0-9]*\/[0-9]*)".*/\1/p' "$WORK/dom.html"
}

for fmt in png svg; do
    run report --db "$DB" --out "$WORK/out_$fmt" --format "$fmt"
    expect_rc 0 "report --format $fmt"
    n=$(grep -c '<img ' "$WORK/out_$fmt/index.html")
    [ "$n" -ge 7 ] || fail "$fmt page has only $n images"
    got=$(images_loaded "$WORK/out_$fmt")
    [ -n "$got" ] || { cat "$WORK/chromium.err" >&2; fail "chromium printed no result for $fmt"; }
    expect_eq "$got" "$n/$n" "images loaded ($fmt)"
done

# The page is complete on its own: with the figure files gone, every image
# still decodes.
rm "$WORK/out_png/"*.png
got=$(images_loaded "$WORK/out_png")
expect_eq "$got" "$n/$n" "images loaded without the PNG files"
# The check can fail: a page with one figure's data damaged must say so.
sed -i -E 's/(data-file="boundary.png"[^>]* src="data:image\/png;base64,)[^"]*"/\1AAAA"/' \
    "$WORK/out_png/index.html"
got=$(images_loaded "$WORK/out_png")
expect_eq "$got" "$((n - 1))/$n" "images loaded with boundary.png damaged"
echo "report_chromium: ok"
