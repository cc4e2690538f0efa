#!/usr/bin/env bash
# Runs the workstation app on a headless GPU box (e.g. EC2) with a virtual X display you reach
# through VNC over an SSH tunnel:
#
#   on the instance:  scripts/ec2/start-x-vnc.sh            # Xvfb :1, window manager, x11vnc, npm start
#   on your laptop:   ssh -L 5901:localhost:5901 ubuntu@<instance>
#                     then point a VNC viewer at localhost:5901
#
# x11vnc listens on 127.0.0.1 only: the SSH tunnel is the only way in. With no Electron binary
# (or when Electron cannot start), `npm start` falls back to serve mode and this script opens
# the served UI in Chromium's app mode (a bare window) on the same display instead.
# Ctrl-C (or SIGTERM) stops everything this script started.
#
# Options (or the environment variables in brackets):
#   --display :N        X display (WS_DISPLAY, default :1)
#   --geometry WxHxD    screen size (WS_GEOMETRY, default 1600x1000x24)
#   --rfbport P         VNC port on 127.0.0.1 (WS_RFBPORT, default 5901)
#   --passwd-file F     x11vnc password file made with `x11vnc -storepasswd` (WS_VNC_PASSWD);
#                       without one VNC has no password, which is acceptable only because it
#                       listens on localhost behind your SSH login
#   --no-vnc            skip VNC (e.g. to take screenshots, or with another remote desktop)
#   --no-app            only the display (+ VNC): start the app yourself with DISPLAY=:N
#   --serve-args "..."  extra arguments for `workstation serve` in the fallback (WS_SERVE_ARGS)
#   --state-dir D       logs and browser profile (WS_X_STATE_DIR, default $TMPDIR/workstation-x-N)
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
XDISPLAY="${WS_DISPLAY:-:1}"
GEOMETRY="${WS_GEOMETRY:-1600x1000x24}"
RFBPORT="${WS_RFBPORT:-5901}"
PASSWD_FILE="${WS_VNC_PASSWD:-}"
SERVE_ARGS="${WS_SERVE_ARGS:-}"
STATE_DIR="${WS_X_STATE_DIR:-}"
WITH_VNC=1
WITH_APP=1

while [ $# -gt 0 ]; do
  case "$1" in
    --display) XDISPLAY="$2"; shift 2 ;;
    --geometry) GEOMETRY="$2"; shift 2 ;;
    --rfbport) RFBPORT="$2"; shift 2 ;;
    --passwd-file) PASSWD_FILE="$2"; shift 2 ;;
    --serve-args) SERVE_ARGS="$2"; shift 2 ;;
    --state-dir) STATE_DIR="$2"; shift 2 ;;
    --no-vnc) WITH_VNC=0; shift ;;
    --no-app) WITH_APP=0; shift ;;
    -h|--help) sed -n '2,30p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "start-x-vnc: unknown option $1 (see --help)" >&2; exit 2 ;;
  esac
done

case "$XDISPLAY" in :[0-9]*) ;; *) echo "start-x-vnc: --display must look like :1, got $XDISPLAY" >&2; exit 2 ;; esac
DNUM="${XDISPLAY#:}"
STATE_DIR="${STATE_DIR:-${TMPDIR:-/tmp}/workstation-x-$DNUM}"
mkdir -p "$STATE_DIR"
WIDTH="${GEOMETRY%%x*}"; REST="${GEOMETRY#*x}"; HEIGHT="${REST%%x*}"

log() { echo "start-x-vnc: $*"; }
PIDS=()
cleanup() {
  local code=$?
  trap - EXIT INT TERM
  for ((i=${#PIDS[@]}-1; i>=0; i--)); do kill "${PIDS[$i]}" 2>/dev/null || true; done
  for pid in "${PIDS[@]}"; do
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$pid" 2>/dev/null || true
  done
  log "stopped"
  exit "$code"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

need() { command -v "$1" >/dev/null 2>&1 || { echo "start-x-vnc: $1 is not installed ($2)" >&2; exit 1; }; }

# --- X ---------------------------------------------------------------------------------------
x_alive() { [ -S "/tmp/.X11-unix/X$DNUM" ] && { ! command -v xdpyinfo >/dev/null 2>&1 || xdpyinfo -display "$XDISPLAY" >/dev/null 2>&1; }; }
if x_alive; then
  log "display $XDISPLAY is already running; using it"
else
  need Xvfb "sudo apt-get install -y xvfb"
  # -nolisten tcp: X is reachable only through its local socket (VNC / the app run here).
  Xvfb "$XDISPLAY" -screen 0 "$GEOMETRY" -nolisten tcp >"$STATE_DIR/xvfb.log" 2>&1 &
  PIDS+=($!)
  for _ in $(seq 100); do x_alive && break; kill -0 "${PIDS[-1]}" 2>/dev/null || break; sleep 0.1; done
  x_alive || { echo "start-x-vnc: Xvfb did not start on $XDISPLAY:" >&2; cat "$STATE_DIR/xvfb.log" >&2; exit 1; }
  log "Xvfb on $XDISPLAY ($GEOMETRY)"
fi
export DISPLAY="$XDISPLAY"

# --- window manager (optional: without one, windows just have no decorations) ----------------
for wm in openbox fluxbox matchbox-window-manager xfwm4 icewm twm; do
  if command -v "$wm" >/dev/null 2>&1; then
    "$wm" >"$STATE_DIR/wm.log" 2>&1 &
    PIDS+=($!)
    log "window manager: $wm"
    break
  fi
done

# --- VNC on 127.0.0.1 only ---------------------------------------------------------------------
if [ "$WITH_VNC" = 1 ]; then
  need x11vnc "sudo apt-get install -y x11vnc"
  if [ -n "$PASSWD_FILE" ]; then AUTH=(-rfbauth "$PASSWD_FILE"); else AUTH=(-nopw); fi
  x11vnc -display "$XDISPLAY" -localhost -rfbport "$RFBPORT" "${AUTH[@]}" -forever -shared -noxdamage -quiet \
    -o "$STATE_DIR/x11vnc.log" >"$STATE_DIR/x11vnc.out" 2>&1 &
  PIDS+=($!)
  # x11vnc prints PORT=<port> on stdout once it listens
  for _ in $(seq 100); do grep -q "PORT=$RFBPORT" "$STATE_DIR/x11vnc.out" 2>/dev/null && break; kill -0 "${PIDS[-1]}" 2>/dev/null || break; sleep 0.1; done
  grep -q "PORT=$RFBPORT" "$STATE_DIR/x11vnc.out" 2>/dev/null || { echo "start-x-vnc: x11vnc did not start on port $RFBPORT:" >&2; tail -20 "$STATE_DIR/x11vnc.out" "$STATE_DIR/x11vnc.log" >&2; exit 1; }
  log "VNC on 127.0.0.1:$RFBPORT${PASSWD_FILE:+ (password file $PASSWD_FILE)}; from your machine: ssh -L $RFBPORT:localhost:$RFBPORT <user>@<this host>, then VNC to localhost:$RFBPORT"
fi

# --- the app -------------------------------------------------------------------------------------
if [ "$WITH_APP" = 1 ]; then
  APP_LOG="$STATE_DIR/app.log"
  : >"$APP_LOG"
  # shellcheck disable=SC2086 # SERVE_ARGS is a list of words
  (cd "$ROOT" && exec node scripts/start.mjs $SERVE_ARGS) >"$APP_LOG" 2>&1 &
  APP_PID=$!
  PIDS+=("$APP_PID")
  URL=""
  for i in $(seq 1200); do  # building on first start can take a while
    URL="$(grep -oE 'https?://(127\.0\.0\.1|localhost|\[::1\]):[0-9]+/[^[:space:]]*token=[A-Za-z0-9_-]+' "$APP_LOG" | head -1 || true)"
    [ -n "$URL" ] && break
    kill -0 "$APP_PID" 2>/dev/null || { echo "start-x-vnc: npm start ended:" >&2; tail -30 "$APP_LOG" >&2; exit 1; }
    # Electron started (no fallback message within a few seconds): it draws its own window.
    if [ "$i" -ge 100 ] && ! grep -q "Electron cannot start here\|starting headless serve mode" "$APP_LOG"; then break; fi
    sleep 0.1
  done
  if [ -n "$URL" ]; then
    BROWSER=""
    for b in chromium chromium-browser google-chrome google-chrome-stable; do command -v "$b" >/dev/null 2>&1 && { BROWSER="$b"; break; }; done
    [ -n "$BROWSER" ] || { echo "start-x-vnc: Electron cannot start and no Chromium to show $URL (sudo apt-get install -y chromium)" >&2; exit 1; }
    # App mode: one bare window on the served UI (what Electron would show). --no-sandbox only
    # as root, where Chromium refuses its sandbox (--test-type hides the banner warning about it).
    SANDBOX=(); [ "$(id -u)" = 0 ] && SANDBOX=(--no-sandbox --test-type)
    "$BROWSER" "${SANDBOX[@]}" --app="$URL" --user-data-dir="$STATE_DIR/chromium-profile" --no-first-run --no-default-browser-check \
      --password-store=basic --disable-dev-shm-usage --window-position=0,0 --window-size="$WIDTH,$HEIGHT" >"$STATE_DIR/chromium.log" 2>&1 &
    PIDS+=($!)
    log "window: $BROWSER app mode on $XDISPLAY -> ${URL%%\?*} (Electron unavailable: see $APP_LOG)"
  else
    log "window: Electron on $XDISPLAY (log: $APP_LOG)"
  fi
fi

log "ready (Ctrl-C stops everything started here)"
while :; do
  for pid in "${PIDS[@]}"; do
    kill -0 "$pid" 2>/dev/null || { log "process $pid ended; shutting down"; exit 1; }
  done
  sleep 1 &
  wait $! || true
done
