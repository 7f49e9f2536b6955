#!/usr/bin/env bash
# SIP calls-per-second bench: the highest rate at which the node completes every call for a
# sustained period, with SIPp as the caller.
#
#   bench/sip/cps.sh [SECONDS_PER_STEP] [RATES...]      e.g.  bench/sip/cps.sh 30 100 200 400 600
#
# Each call is a full call to the built-in test service: INVITE with SDP, 100 + 200 with an
# SDP answer (two RTP port pairs bound in the media range), ACK, 1 s of call, BYE, 200. The
# node runs the release build on loopback with capacity raised so that admission is not the
# limit. For each rate SIPp places rate × SECONDS calls; the step passes when SIPp reports
# zero failed calls and no retransmission timeout. The output is one CSV row per step.
# Loopback only: everything binds 127.0.0.1.
set -euo pipefail
cd "$(dirname "$0")/../.."
seconds=${1:-30}
shift || true
rates=("$@")
[ ${#rates[@]} -gt 0 ] || rates=(100 200 300 400 500 600 800)

cargo build --release --locked --bin tcn >&2
work=$(mktemp -d)
trap 'kill $node 2>/dev/null || true; rm -rf "$work"' EXIT
cat > "$work/node.toml" <<TOML
[admin]
listen = "127.0.0.1:18090"
[log]
level = "warn"
[sip]
udp = "127.0.0.1:15070"
tcp = "127.0.0.1:15070"
[capacity]
max_calls = 5000
TOML
./target/release/tcn run --config "$work/node.toml" > "$work/node.out" 2> "$work/node.err" &
node=$!
sleep 1

echo "rate_cps,seconds,calls,successful,failed,retransmissions,node_cpu_seconds,result"
for rate in "${rates[@]}"; do
  calls=$((rate * seconds))
  cpu_before=$(awk '{print $14+$15}' /proc/$node/stat)
  (cd "$work" && sipp -sn uac -s test -i 127.0.0.1 -p 16070 -r "$rate" -m "$calls" -d 1000 \
      -l $((rate * 4)) -nostdin -timeout $((seconds + 30))s -trace_stat -stf "stat_$rate.csv" -fd 1 \
      127.0.0.1:15070 > "sipp_$rate.out" 2>&1) || true
  cpu_after=$(awk '{print $14+$15}' /proc/$node/stat)
  ticks=$(getconf CLK_TCK)
  read -r ok failed retrans < <(python3 - "$work/stat_$rate.csv" <<'PY'
import csv, sys
rows = list(csv.DictReader(open(sys.argv[1]), delimiter=';'))
last = rows[-1]
print(last['SuccessfulCall(C)'], last['FailedCall(C)'], last['Retransmissions(C)'])
PY
)
  result=$([ "$failed" = 0 ] && [ "$ok" = "$calls" ] && echo pass || echo fail)
  echo "$rate,$seconds,$calls,$ok,$failed,$retrans,$(( (cpu_after - cpu_before) / ticks )),$result"
  sleep 3   # let the transactions of this step time out before the next
done
