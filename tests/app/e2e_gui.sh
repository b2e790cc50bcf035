#!/bin/sh
# End-to-end test of the real binary under a private X server, driven like a user with xdotool:
#   0. turn the mouse wheel over the controls column, down and up again: it scrolls the panel and
#      changes nothing (no live event, no change waiting for a restart: Ctrl+S before and after
#      save the same configuration);
#   1. start contrastlab (randbits preset, small batch), drag the data.bits slider with the mouse,
#      pausing half-way as a hesitant hand does: the drag leaves one event;
#   2. Ctrl+E, type a file name into the save chooser: the PNG is the dashboard the window shows
#      (its size and title) and its contrastlab:config chunk holds the dragged data.bits (so a
#      drag that did nothing fails the test);
#   3. Ctrl+S saves the configuration; drag again; Ctrl+O loads the saved file back: a second
#      export must show the saved data.bits again, and the window title names the file;
#   4. Ctrl+Q, then `contrastlab --preset FIG.png` starts from the values FIG's run began with
#      and replays its live change (the drag), reaching the dragged data.bits;
#   5. the run list (a private store) holds every run of both launches, each ended cleanly, and
#      the live events are exactly the two drags (the wheel left none).
# The file choosers are driven with keys (Ctrl+A, the full path, Return); no test-only hooks.
#
# Environment: CONTRASTLAB_BIN (the binary; meson sets it), CONTRASTLAB_PRESETS_DIR;
# E2E_KEEP=1 keeps the work folder (app log, exported files) for a look after a failure.
# Needs xvfb-run, xauth, xdotool, ImageMagick's import and python3 (standard library only).
set -eu

die() { echo "e2e_gui: FAIL: $*" >&2; exit 1; }
note() { echo "e2e_gui: $*" >&2; }

# Outer half: check the tools, then re-run this script on its own X display, so that a desktop
# session (or the display of another test) never receives these key presses.
if [ "${CL_E2E_INSIDE_XVFB:-}" != 1 ]; then
  for tool in xvfb-run xauth xdotool import; do
    command -v "$tool" >/dev/null 2>&1 || die "'$tool' is not installed: run tools/install-deps.sh"
  done
  [ -n "${CONTRASTLAB_BIN:-}" ] || die "CONTRASTLAB_BIN is not set (run through meson test)"
  [ -x "$CONTRASTLAB_BIN" ] || die "'$CONTRASTLAB_BIN' is not an executable"
  export CL_E2E_INSIDE_XVFB=1
  exec xvfb-run -a -s '-screen 0 1280x800x24' "$0" "$@"
fi

PY=/usr/bin/python3
[ -x "$PY" ] || PY=python3
bin=$CONTRASTLAB_BIN
export GDK_BACKEND=x11 GSK_RENDERER=cairo NO_AT_BRIDGE=1 GTK_A11Y=none GSETTINGS_BACKEND=memory
# Each launch is its own process (G_APPLICATION_NON_UNIQUE): no D-Bus name, nothing left behind.
unset DBUS_SESSION_BUS_ADDRESS

work=$(mktemp -d "${TMPDIR:-/tmp}/contrastlab-e2e.XXXXXX")
# The run list goes to a private store, never to the user's data dir.
export CONTRASTLAB_DATA_DIR="$work/data"
# ... and the app's state (export folders, dismissed notes) to a private config folder.
export XDG_CONFIG_HOME="$work/config"
app_pid=""
cleanup() {
  if [ -n "$app_pid" ] && kill -0 "$app_pid" 2>/dev/null; then
    kill "$app_pid" 2>/dev/null || true
    wait "$app_pid" 2>/dev/null || true
  fi
  if [ -n "${E2E_KEEP:-}" ]; then note "kept $work"; else rm -rf "$work"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

start_app() { # ARGS...
  "$bin" "$@" >"$work/app.log" 2>&1 &
  app_pid=$!
  win=""
  tries=0
  while [ -z "$win" ] && [ $tries -lt 15 ]; do
    kill -0 "$app_pid" 2>/dev/null || { cat "$work/app.log" >&2; die "contrastlab exited early"; }
    win=$(find_window 2 '^ContrastLab' "$app_pid") || true
    tries=$((tries + 1))
  done
  [ -n "$win" ] || die "no ContrastLab window appeared within 30 s"
  # No window manager under Xvfb: focus the window directly for the key presses.
  xdotool windowfocus --sync "$win"
}

# Prints the first visible window whose name matches REGEX (and of PID, if given), retrying for
# up to SECONDS: xdotool's search walks the window tree and dies with BadWindow when a window
# (a closing file chooser) disappears under it, so one failed search proves nothing.
find_window() { # SECONDS REGEX [PID]
  tries=$(($1 * 4))
  while [ "$tries" -gt 0 ]; do
    if [ -n "${3:-}" ]; then
      found=$(xdotool search --onlyvisible --pid "$3" --name "$2" 2>/dev/null | head -n 1) || true
    else
      found=$(xdotool search --onlyvisible --name "$2" 2>/dev/null | head -n 1) || true
    fi
    [ -n "$found" ] && { echo "$found"; return 0; }
    sleep 0.25
    tries=$((tries - 1))
  done
  return 1
}

# Focuses the main window and presses KEYS on it, as a user would (XTEST, not XSendEvent).
press() { # KEYS
  win=$(find_window 5 '^ContrastLab' "$app_pid") || die "the ContrastLab window went away"
  xdotool windowfocus --sync "$win"
  xdotool key --clearmodifiers "$1"
}

quit_app() {
  press ctrl+q
  i=0
  while kill -0 "$app_pid" 2>/dev/null && [ $i -lt 40 ]; do sleep 0.25; i=$((i + 1)); done
  kill -0 "$app_pid" 2>/dev/null && die "contrastlab did not quit on Ctrl+Q"
  status=0
  wait "$app_pid" || status=$?
  app_pid=""
  [ "$status" -eq 0 ] || { cat "$work/app.log" >&2; die "contrastlab exited with status $status"; }
  # GTK warnings or criticals on stderr are failures too.
  if grep -E "CRITICAL|WARNING|ERROR" "$work/app.log" >&2; then die "contrastlab printed warnings (above)"; fi
}

# Types PATH into the file chooser titled TITLE (after the shortcut that opens it) and accepts.
drive_chooser() { # TITLE PATH
  dialog=$(find_window 10 "^$1\$") || die "the '$1' file chooser did not open"
  xdotool windowfocus --sync "$dialog"
  xdotool key --clearmodifiers ctrl+a
  xdotool type --delay 8 "$2"
  sleep 0.3
  xdotool key --clearmodifiers Return
}

wait_for_file() { # PATH
  i=0
  while [ ! -s "$1" ] && [ $i -lt 60 ]; do sleep 0.25; i=$((i + 1)); done
  [ -s "$1" ] || die "$1 was not written"
}

export_png() { # PATH
  press ctrl+e
  drive_chooser "Export Figure" "$1"
  wait_for_file "$1"
}

# Checks the PNG with an independent reader (Python's zlib, not the app's libpng code) and prints
# data.bits from its contrastlab:config chunk.
png_bits() { # PATH
  "$PY" - "$1" <<'EOF'
import struct, sys, zlib
data = open(sys.argv[1], 'rb').read()
assert data[:8] == b'\x89PNG\r\n\x1a\n', 'not a PNG'
pos, texts, size = 8, {}, None
while pos < len(data):
    n, kind = struct.unpack('>I4s', data[pos:pos + 8])
    body = data[pos + 8:pos + 8 + n]
    crc = struct.unpack('>I', data[pos + 8 + n:pos + 12 + n])[0]
    assert zlib.crc32(kind + body) == crc, 'bad CRC in ' + kind.decode()
    if kind == b'IHDR':
        size = struct.unpack('>II', body[:8])
    elif kind == b'tEXt':
        k, v = body.split(b'\0', 1)
        texts[k.decode()] = v.decode('latin-1')
    elif kind == b'zTXt':
        k, rest = body.split(b'\0', 1)
        texts[k.decode()] = zlib.decompress(rest[1:]).decode('latin-1')
    elif kind == b'iTXt':
        k, rest = body.split(b'\0', 1)
        compressed = rest[0]
        lang, rest = rest[2:].split(b'\0', 1)
        trans, text = rest.split(b'\0', 1)
        texts[k.decode()] = (zlib.decompress(text) if compressed else text).decode('utf-8')
    pos += 12 + n
assert kind == b'IEND', 'no IEND chunk: truncated file'
# The window opens on the live dashboard, so "Export…" writes what it shows: the dashboard, every
# panel at a figure's export size (2 x 900 x 560 + gaps and title).
assert size == (1836, 1240), 'unexpected size %r for the dashboard' % (size,)
assert texts.get('Software', '').startswith('ContrastLab '), 'no Software chunk'
assert texts.get('Title') == 'ContrastLab dashboard', 'Title chunk is %r' % texts.get('Title')
assert texts.get('contrastlab:step', '').isdigit(), 'no contrastlab:step chunk'
group, bits = None, None
for line in texts['contrastlab:config'].splitlines():
    line = line.strip()
    if line.startswith('['):
        group = line.strip('[]')
    elif group == 'data' and line.startswith('bits='):
        bits = line.split('=', 1)[1]
assert bits is not None, 'contrastlab:config has no data.bits'
print(bits)
EOF
}

ini_bits() { # PATH: data.bits of a saved .ini
  awk -F= '/^\[/ { g = $0 } g == "[data]" && $1 == "bits" { print $2 }' "$1"
}

# Drags the knob of the first live slider (data.bits) dx pixels to the right. The slider is found
# on screen: the first row of the sidebar holding the accent colour of a slider's filled trough.
drag_bits() { # DX
  eval "$(xdotool getwindowgeometry --shell "$win")"
  import -window root -crop "320x260+${X}+${Y}" -depth 8 "$work/side.ppm"
  knob=$("$PY" - "$work/side.ppm" <<'EOF'
import sys
data = open(sys.argv[1], 'rb').read()
magic, dims, maxval, pixels = data.split(b'\n', 3)
w, h = map(int, dims.split())
def accent(p):  # GTK's default accent blue, rgb(53, 132, 228)
    return abs(p[0] - 53) < 30 and abs(p[1] - 132) < 30 and abs(p[2] - 228) < 30
for y in range(h):
    row = pixels[y * w * 3:(y + 1) * w * 3]
    xs = [x for x in range(w) if accent(row[3 * x:3 * x + 3])]
    if len(xs) > 20:
        print(max(xs) + 10, y)  # the knob sits just past the end of the filled trough
        break
EOF
)
  [ -n "$knob" ] || die "could not find the data.bits slider on screen"
  set -- "$1" $knob
  note "data.bits knob at +$2+$3 in the window; dragging by $1 px"
  x0=$((X + $2)); y0=$((Y + $3))
  xdotool mousemove "$x0" "$y0" mousedown 1
  for step in 1 2 3 4 5 6 7 8; do
    xdotool mousemove $((x0 + $1 * step / 8)) "$y0"
    sleep 0.03
    [ $step -eq 4 ] && sleep 0.5 # a pause mid-drag, longer than the row's debounce
  done
  xdotool mouseup 1
  import -window root -crop "320x260+${X}+${Y}" "$work/side-after-drag.png" # for a look after a failure
  # The row sends its value after a short debounce; the trainer applies it at its next step,
  # and exports show the values in force in the latest snapshot.
  sleep 2
}

t0=$(date +%s)
start_app --preset randbits --set train.batch=32 --set probe.every=0 --set train.steps=20000 # long enough to outlast the test
sleep 1.5 # mapped is not yet drawn: let the first frames and training steps happen

# 0. the wheel over the controls column scrolls it and changes no value.
press ctrl+s
drive_chooser "Save Configuration" "$work/before-wheel.ini"
wait_for_file "$work/before-wheel.ini"
eval "$(xdotool getwindowgeometry --shell "$win")"
for y in 120 200 280 360 440 520 600; do
  xdotool mousemove $((X + 150)) $((Y + y))
  xdotool click --repeat 4 --delay 40 5
done
import -window root -crop "320x${HEIGHT}+${X}+${Y}" "$work/side-after-wheel.png" # scrolled: for a look
for y in 600 520 440 360 280 200 120; do
  xdotool mousemove $((X + 150)) $((Y + y))
  xdotool click --repeat 4 --delay 40 4
done
sleep 0.5 # past the rows' debounce
press ctrl+s
drive_chooser "Save Configuration" "$work/after-wheel.ini"
i=0
while [ ! -s "$work/after-wheel.ini" ] && [ $i -lt 60 ]; do sleep 0.25; i=$((i + 1)); done
[ -s "$work/after-wheel.ini" ] || die "after-wheel.ini was not written"
diff "$work/before-wheel.ini" "$work/after-wheel.ini" >&2 || die "the mouse wheel over the controls changed the configuration (diff above)"
note "56 wheel notches over the controls column: configuration unchanged"

# 1-2. drag, export, check the chunk.
drag_bits 90
export_png "$work/first.png"
bits1=$(png_bits "$work/first.png") || die "first.png is not a valid ContrastLab PNG"
[ "$bits1" != 10 ] || die "the slider drag did not change data.bits (still 10 in the exported PNG)"
note "dragged data.bits 10 -> $bits1; first.png checked"

# Exporting to the same name again must not replace it silently: the chooser asks first, and a
# refused replacement leaves the old file.
before=$(cksum <"$work/first.png")
press ctrl+e
drive_chooser "Export Figure" "$work/first.png"
sleep 1
xdotool key --clearmodifiers Escape # the chooser's "replace?" question: no
sleep 0.3
xdotool key --clearmodifiers Escape # and close the chooser
sleep 0.5
[ "$(cksum <"$work/first.png")" = "$before" ] || die "first.png was replaced without confirmation"

# 3. save, change, load back.
press ctrl+s
drive_chooser "Save Configuration" "$work/saved.ini"
wait_for_file "$work/saved.ini"
[ "$(ini_bits "$work/saved.ini")" = "$bits1" ] || die "saved.ini has data.bits=$(ini_bits "$work/saved.ini"), expected $bits1"
drag_bits -120
export_png "$work/changed.png"
bits2=$(png_bits "$work/changed.png") || die "changed.png is not a valid ContrastLab PNG"
[ "$bits2" != "$bits1" ] || die "the second drag did not change data.bits"
press ctrl+o
drive_chooser "Open Configuration" "$work/saved.ini"
i=0
while ! xdotool getwindowname "$win" | grep -q "saved.ini" && [ $i -lt 40 ]; do sleep 0.25; i=$((i + 1)); done
xdotool getwindowname "$win" | grep -q "saved.ini" || die "the window title does not name the loaded saved.ini"
sleep 1.5 # the restarted run logs a few steps
export_png "$work/loaded.png"
bits3=$(png_bits "$work/loaded.png") || die "loaded.png is not a valid ContrastLab PNG"
[ "$bits3" = "$bits1" ] || die "after Ctrl+O data.bits is $bits3, expected the saved $bits1"
note "saved with Ctrl+S, changed to $bits2, loaded back with Ctrl+O: $bits3"
quit_app

# 4. restore from the PNG on the command line.
# The run starts where first.png's run started (data.bits=10) and replays its drag at the same
# step (its contrastlab:events chunk), so it reaches the dragged value within the same steps.
start_app --preset "$work/first.png"
sleep 1.5
export_png "$work/restored.png"
bits4=$(png_bits "$work/restored.png") || die "restored.png is not a valid ContrastLab PNG"
[ "$bits4" = 10 ] || die "--preset first.png started at data.bits=$bits4, expected the run's first value 10"
tries=0
while [ "$bits4" != "$bits1" ] && [ $tries -lt 8 ]; do
  sleep 5
  rm -f "$work/restored.png"
  export_png "$work/restored.png"
  bits4=$(png_bits "$work/restored.png") || die "restored.png is not a valid ContrastLab PNG"
  tries=$((tries + 1))
done
[ "$bits4" = "$bits1" ] || die "--preset first.png did not replay the drag to data.bits=$bits1 (still $bits4)"
note "--preset first.png started at data.bits=10 and replayed the drag to $bits4"
quit_app

# 5. every run was kept, and each ended cleanly: the first window's run, the one its Ctrl+O
# restarted, and the restored one; none left "running" or "interrupted".
index="$CONTRASTLAB_DATA_DIR/runs/index.ini"
[ -f "$index" ] || die "no run list was written ($index)"
runs=$(grep -c '^status=' "$index")
[ "$runs" -eq 3 ] || { cat "$index" >&2; die "the run list holds $runs runs, expected 3"; }
if grep -E '^status=(running|interrupted)' "$index" >&2; then die "a run was not ended cleanly"; fi
note "run list: $runs runs, all ended"
# Live events of every run: the two drags of data.bits, one each (not the values they passed
# through), the first drag replayed by the run restored from first.png, and nothing from the wheel.
events=$(cat "$CONTRASTLAB_DATA_DIR"/runs/*/events.csv | grep -v '^step,' || true)
n_events=$(printf '%s\n' "$events" | grep -c , || true)
[ "$n_events" -eq 3 ] || { printf '%s\n' "$events" >&2; die "the runs hold $n_events live events, expected 3 (one per drag, one replayed)"; }
printf '%s\n' "$events" | grep -v ',data.bits,' >&2 && die "a live event other than data.bits was recorded (above)"
note "live events: one per drag and the replayed one, none from the wheel"
note "passed in $(( $(date +%s) - t0 )) s"
