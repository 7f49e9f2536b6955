#!/usr/bin/env bash
# Makes the Virtual Reception's spoken prompts (node/assets/prompts/<name>.wav): espeak-ng
# speaks each text, GStreamer turns it into 8 kHz mono 16-bit PCM WAV, the form the node
# embeds (node/src/call/prompts.rs) and the downlink resamples to the caller's codec.
# Needs espeak-ng and gstreamer1.0-tools (deploy/install-deps.sh). Run it from anywhere after
# changing a text; commit the WAVs it writes.
set -euo pipefail
cd "$(dirname "$0")"

# name|text: the names are the ones routing::reception plays.
PROMPTS=(
  "enter_meeting_id|Welcome. Please enter the meeting ID, followed by hash."
  "invalid_meeting_id|That meeting ID was not found. Please try again."
  "no_input|No meeting ID was entered. Please enter the meeting ID, followed by hash."
)

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
for entry in "${PROMPTS[@]}"; do
  name=${entry%%|*}
  text=${entry#*|}
  espeak-ng -v en-us -s 150 -w "$tmp/$name.wav" "$text"
  gst-launch-1.0 -q filesrc location="$tmp/$name.wav" ! wavparse ! audioconvert \
    ! audioresample ! audio/x-raw,format=S16LE,rate=8000,channels=1 ! wavenc \
    ! filesink location="$name.wav"
  echo "$name.wav: $(stat -c %s "$name.wav") bytes"
done
