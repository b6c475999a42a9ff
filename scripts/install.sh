#!/usr/bin/env bash
# Create .venv and install svmac with its default detector (MediaPipe Pose 0.10.21, whose
# model ships inside the wheel, so the demo runs offline).
#   bash scripts/install.sh          # the tool
#   bash scripts/install.sh test     # the tool and the test extra
# mediapipe 0.10.21's metadata asks for numpy<2 and pulls opencv-contrib-python (which
# overwrites opencv-python's files) and ~360 MB of jax it never imports here. With numpy 2
# it gives identical landmarks (../shared/notes/detectors.md), so it is installed without
# its dependencies; the ones it really imports are pinned in pyproject.toml.
set -euo pipefail
cd "$(dirname "$0")/.."
extras="${1:-}"
python3 -m venv .venv
if [ -n "$extras" ]; then
    .venv/bin/python -m pip install --quiet -e ".[$extras]"
else
    .venv/bin/python -m pip install --quiet -e .
fi
.venv/bin/python -m pip install --quiet --no-deps mediapipe==0.10.21
