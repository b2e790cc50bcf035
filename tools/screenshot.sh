#!/bin/sh
# Takes the README screenshots of the real window under a virtual X server.
#
# Usage: tools/screenshot.sh BUILD_DIR OUT_DIR [APP_ARGS...]
#   BUILD_DIR  a meson build dir in which app/contrastlab is built
#   OUT_DIR    gets main.png (Loss tab), geometry.png, views.png, probes.png and runs.png (the
#              run list, with the run before a reset compared as B)
#   APP_ARGS   passed to contrastlab, e.g. --preset generalized-loss
# Environment: SHOT_DELAY seconds of training before the first shot (default 25);
#   PROBES_DELAY further seconds before probes.png (default 35), so that the chart holds
#   probe rounds after step 0 (the default preset probes every 100 steps, ~4 steps/s on 2 cores);
#   RUNS_DELAY seconds the second run trains before runs.png (default 20);
#   SHOT_SIZE=WxH the window's size (default 1240x760, the app's own default): the virtual screen
#   is made that large and the size is given to the app through its GSettings keys window-width
#   and window-height (a throw-away keyfile backend), since there is no window manager to resize
#   it. E.g. SHOT_SIZE=1920x1080 tools/screenshot.sh build /tmp/shots-1920.
# Needs xvfb-run, xauth, xdotool and ImageMagick's import (tools/install-deps.sh installs them).
set -eu

usage() { echo "usage: $0 BUILD_DIR OUT_DIR [APP_ARGS...]" >&2; exit 2; }
die() { echo "screenshot.sh: $*" >&2; exit 1; }

# Outer half: check the arguments, then run the inner half on a private X display.
if [ "${CL_SHOT_INSIDE_XVFB:-}" != 1 ]; then
  [ $# -ge 2 ] || usage
  build_dir=$(cd "$1" 2>/dev/null && pwd) || die "build dir '$1' does not exist"
  [ -x "$build_dir/app/contrastlab" ] || die "'$build_dir/app/contrastlab' is missing: build first (meson compile -C $1)"
  for tool in xvfb-run xauth xdotool import; do
    command -v "$tool" >/dev/null 2>&1 || die "'$tool' is not installed: run tools/install-deps.sh"
  done
  mkdir -p "$2" || die "cannot create output dir '$2'"
  out_dir=$(cd "$2" && pwd)
  shift 2
  export CL_SHOT_INSIDE_XVFB=1
  # -a picks a free display number so parallel runs and a real desktop are left alone.
  size=${SHOT_SIZE:-1240x760}
  case $size in
    [0-9]*x[0-9]*) ;;
    *) die "SHOT_SIZE must be WIDTHxHEIGHT, e.g. 1920x1080 (got '$size')" ;;
  esac
  screen_w=$(( ${size%x*} + 40 < 1280 ? 1280 : ${size%x*} + 40 ))
  screen_h=$(( ${size#*x} + 40 < 800 ? 800 : ${size#*x} + 40 ))
  exec xvfb-run -a -s "-screen 0 ${screen_w}x${screen_h}x24" "$0" "$build_dir" "$out_dir" "$@"
fi

build_dir=$1
out_dir=$2
shift 2
repo=$(cd "$(dirname "$0")/.." && pwd)
delay=${SHOT_DELAY:-25}
probes_delay=${PROBES_DELAY:-35}
log=$(mktemp "${TMPDIR:-/tmp}/contrastlab-shot.XXXXXX")
app_pid=""

cleanup() {
  if [ -n "$app_pid" ] && kill -0 "$app_pid" 2>/dev/null; then
    kill "$app_pid" 2>/dev/null || true
    wait "$app_pid" 2>/dev/null || true
  fi
  rm -f "$log"
  if [ -n "${shot_data:-}" ]; then rm -rf "$shot_data"; fi
  if [ -n "${shot_config:-}" ]; then rm -rf "$shot_config"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# Same settings as the GUI tests: software rendering, no accessibility bus, source-tree presets.
# The memory GSettings backend keeps the user's saved window size and folders out of the shots.
export GDK_BACKEND=x11 GSK_RENDERER=cairo NO_AT_BRIDGE=1 GTK_A11Y=none
export CONTRASTLAB_PRESETS_DIR="$repo/data/presets" GSETTINGS_BACKEND=memory
# The runs of the shoot go to a throw-away run list (set CONTRASTLAB_DATA_DIR to keep one, e.g.
# to photograph the Runs page with earlier runs in it).
if [ -z "${CONTRASTLAB_DATA_DIR:-}" ]; then
  shot_data=$(mktemp -d "${TMPDIR:-/tmp}/contrastlab-shot-data.XXXXXX")
  export CONTRASTLAB_DATA_DIR="$shot_data"
fi
if [ -f "$build_dir/resources/gschemas.compiled" ]; then
  export GSETTINGS_SCHEMA_DIR="$build_dir/resources"
  if [ -n "${SHOT_SIZE:-}" ]; then
    # The window's size through the app's own settings, in a keyfile nobody else reads.
    shot_config=$(mktemp -d "${TMPDIR:-/tmp}/contrastlab-shot-config.XXXXXX")
    export GSETTINGS_BACKEND=keyfile XDG_CONFIG_HOME="$shot_config"
    gsettings set org.contrastlab.ContrastLab window-width "${SHOT_SIZE%x*}"
    gsettings set org.contrastlab.ContrastLab window-height "${SHOT_SIZE#*x}"
  fi
elif [ -n "${SHOT_SIZE:-}" ]; then
  die "SHOT_SIZE needs the compiled settings schema ($build_dir/resources/gschemas.compiled)"
fi

"$build_dir/app/contrastlab" "$@" >"$log" 2>&1 &
app_pid=$!

app_alive() {
  kill -0 "$app_pid" 2>/dev/null && return 0
  echo "screenshot.sh: contrastlab exited early; its output:" >&2
  cat "$log" >&2
  return 1
}

# --sync waits until the window is mapped; it is cut into 2 s slices so that an app that dies
# before mapping is reported at once, and one stuck before mapping gives up after 60 s.
win=""
tries=0
while [ -z "$win" ] && [ $tries -lt 30 ]; do
  app_alive || exit 1
  win=$(timeout 2 xdotool search --sync --onlyvisible --name '^ContrastLab$' | head -n 1) || true
  tries=$((tries + 1))
done
[ -n "$win" ] || die "no ContrastLab window appeared within 60 s"
# There is no window manager under Xvfb, so focus the window directly for the key presses.
xdotool windowfocus --sync "$win"

# Shots are taken of the whole screen (so that open popovers, which are their own X windows,
# would be in them) and cropped to the window, which without a window manager sits at a fixed place.
eval "$(xdotool getwindowgeometry --shell "$win")"
crop="${WIDTH}x${HEIGHT}+${X}+${Y}"
shoot() { # FILE
  app_alive || exit 1
  import -window root -crop "$crop" +repage "$out_dir/$1"
}
show_tab() { # KEY: the stack switcher's mnemonic; then give the figure time to redraw
  xdotool key --window "$win" --clearmodifiers "$1"
  sleep 2
}

sleep "$delay"
shoot main.png
show_tab alt+g; shoot geometry.png
show_tab alt+v; shoot views.png
show_tab alt+p; sleep "$probes_delay"; shoot probes.png
# The run list: reset (Ctrl+R keeps the first run in the list and starts a second one), show the
# Runs page, pick the first run as B (Alt+B opens the drop-down: No comparison, the live run, the
# first run), and let the new run catch up a little on the Loss tab.
xdotool key --window "$win" --clearmodifiers ctrl+r
sleep 2
xdotool key --window "$win" --clearmodifiers alt+r
sleep 1
xdotool key --window "$win" --clearmodifiers alt+b
sleep 1
xdotool key --clearmodifiers Down Down Return
show_tab alt+l; sleep "${RUNS_DELAY:-20}"; shoot runs.png
# Leave the window on the Loss tab and the controls, as a user would find it next time.
xdotool key --window "$win" --clearmodifiers alt+c

# Quit the way a user does (Ctrl+Q -> app.quit); kill only if it does not go within 10 s.
xdotool key --window "$win" --clearmodifiers ctrl+q
i=0
while kill -0 "$app_pid" 2>/dev/null && [ $i -lt 20 ]; do sleep 0.5; i=$((i + 1)); done
if kill -0 "$app_pid" 2>/dev/null; then
  echo "screenshot.sh: contrastlab did not quit on Ctrl+Q; terminating it" >&2
  kill "$app_pid" 2>/dev/null || true
fi
status=0
wait "$app_pid" || status=$?
app_pid=""
if [ -s "$log" ] || [ "$status" -ne 0 ]; then
  echo "screenshot.sh: contrastlab exited with status $status; its output:" >&2
  cat "$log" >&2
fi
[ "$status" -eq 0 ] || die "the app did not shut down cleanly (screenshots were written)"
echo "wrote $out_dir/main.png $out_dir/geometry.png $out_dir/views.png $out_dir/probes.png $out_dir/runs.png"
