#!/usr/bin/env bash
# Starts or stops a throw-away S3 emulator (moto's server, in memory) on 127.0.0.1 for tests.
#   scripts/s3-emulator.sh start DIR   -> prints the endpoint (http://127.0.0.1:PORT) on stdout
#   scripts/s3-emulator.sh stop DIR
# DIR holds its pid, port and log. Any access key is accepted; tests use the obviously fake "test"/"test".
set -euo pipefail
cmd=${1:?usage: s3-emulator.sh start|stop DIR}
dir=${2:?usage: s3-emulator.sh start|stop DIR}
python=${S3_EMULATOR_PYTHON:-python3}

case "$cmd" in
  start)
    mkdir -p "$dir"
    "$python" -c 'import moto.server' 2>/dev/null \
      || { echo "moto is not installed for $python (python3 -m moto.server is the S3 emulator)" >&2; exit 1; }
    port=$("$python" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()')
    # setsid: its own process group, so that stop ends the server and nothing else.
    setsid "$python" -m moto.server -H 127.0.0.1 -p "$port" >"$dir/server.log" 2>&1 </dev/null &
    echo $! >"$dir/pid"
    echo "$port" >"$dir/port"
    for _ in $(seq 1 150); do
      if "$python" -c "import urllib.request,sys; urllib.request.urlopen('http://127.0.0.1:$port/', timeout=1)" 2>/dev/null; then
        echo "http://127.0.0.1:$port"
        exit 0
      fi
      kill -0 "$(cat "$dir/pid")" 2>/dev/null || { echo "the S3 emulator exited; see $dir/server.log" >&2; exit 1; }
      sleep 0.1
    done
    echo "the S3 emulator did not answer within 15 s; see $dir/server.log" >&2
    kill -- "-$(cat "$dir/pid")" 2>/dev/null || true
    exit 1
    ;;
  stop)
    if [ -f "$dir/pid" ]; then
      pid=$(cat "$dir/pid")
      kill -- "-$pid" 2>/dev/null || kill "$pid" 2>/dev/null || true
      for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
      kill -9 -- "-$pid" 2>/dev/null || true
      rm -f "$dir/pid"
    fi
    ;;
  *) echo "unknown command $cmd" >&2; exit 2 ;;
esac
