#!/usr/bin/env bash
# Optional: add the mmpose 2D detector stack (mmcv 2.1.0 compiled, mmengine, mmdet, mmpose) to
# the .venv made by scripts/install.sh. Idempotent; safe to run again.
#   bash scripts/install.sh && bash scripts/install_mmpose.sh
# The first run compiles mmcv's C++ ops (12-13 min on 2 idle cores, 27 min on a busy one);
# the wheels are cached in ${SVMAC_WHEEL_CACHE:-~/.cache/svmac/wheels}, keyed by Python,
# platform and torch build, after which the whole run takes under a minute.
#
# Why it is done this way (measured, ../shared/notes/detectors.md):
# - mmcv 2.1.0 has no wheel for torch 2.14.1 and mmcv-lite lacks the mmcv._ext ops mmpose
#   imports, so it is built from the sdist. Its setup.py imports pkg_resources (setuptools<81,
#   and --no-build-isolation so it sees this torch) and hard-codes -std=c++17 while torch
#   2.14's headers need C++20.
# - setuptools stays at 80.9.0 afterwards: mmengine imports pkg_resources at run time.
# - Everything is installed with --no-deps from the exact pins below, so numpy 2.4.6, torch
#   2.14.1 and opencv-python 4.13.0.92 from pyproject.toml are never replaced. mmpose's own
#   metadata asks for chumpy, which neither builds nor imports on Python 3.11 and is never
#   imported for inference.
# - xtcocotools' binary wheel breaks with numpy 2: it is built from source (and cached too).
set -euo pipefail
cd "$(dirname "$0")/.."

py=.venv/bin/python
if [ ! -x "$py" ]; then
    echo "error: no .venv here: run bash scripts/install.sh first" >&2
    exit 1
fi

MMCV_VERSION=2.1.0
MMCV_SDIST_SHA256=d387bcab66b467479b6660310e23746cfc79c6e57acf04094680adb499a5cd3f
XTCOCOTOOLS_VERSION=1.14.3
SETUPTOOLS_PIN=setuptools==80.9.0
PINS=(
    mmengine==0.10.7
    mmdet==3.3.0
    mmpose==1.3.2
    torchvision==0.29.1
    json-tricks==3.17.3
    munkres==1.1.4
    scipy==1.17.1
    pycocotools==2.0.11
    shapely==2.2.0
    terminaltables==3.1.10
    addict==2.4.0
    yapf==0.43.0
    platformdirs==4.14.8
    pyyaml==6.0.3
    rich==15.0.0
    pygments==2.21.0
    markdown-it-py==4.3.0
    mdurl==0.1.2
    termcolor==3.3.0
    six==1.17.0
)

pip_install() { "$py" -m pip install --quiet --disable-pip-version-check "$@"; }

pip_install "$SETUPTOOLS_PIN"

# A compiled extension is tied to this Python, platform and torch build: key the cache on them.
tag=$("$py" -c 'import platform, sys, torch; print(f"cp{sys.version_info.major}{sys.version_info.minor}-{platform.machine()}-torch{torch.__version__}")')
cache="${SVMAC_WHEEL_CACHE:-$HOME/.cache/svmac/wheels}/$tag"
mkdir -p "$cache"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# Prints the path of the cached wheel NAME-VERSION, or nothing.
cached_wheel() { find "$cache" -maxdepth 1 -name "$1-$2-*.whl" | head -n 1; }

if "$py" -c "import mmcv, mmcv._ext; assert mmcv.__version__ == '$MMCV_VERSION'" 2>/dev/null; then
    echo "mmcv $MMCV_VERSION (compiled ops) already installed"
else
    wheel=$(cached_wheel mmcv "$MMCV_VERSION")
    if [ -z "$wheel" ]; then
        echo "building mmcv $MMCV_VERSION from source (about 13 min on 2 cores)..."
        start=$(date +%s)
        "$py" -m pip download --quiet --no-deps --no-binary mmcv --no-build-isolation \
            "mmcv==$MMCV_VERSION" -d "$work"
        echo "$MMCV_SDIST_SHA256  $work/mmcv-$MMCV_VERSION.tar.gz" | sha256sum --check --quiet
        tar -xzf "$work/mmcv-$MMCV_VERSION.tar.gz" -C "$work"
        sed -i 's/-std=c++17/-std=c++20/g' "$work/mmcv-$MMCV_VERSION/setup.py"
        # CPU-only ops even where a GPU is visible: the adapter runs on CPU, and a CUDA build
        # would tie the wheel to a toolkit. MAX_JOBS=2: more parallel g++ runs than cores
        # only swap on these 2-core machines.
        CUDA_VISIBLE_DEVICES= FORCE_CUDA=0 MMCV_WITH_OPS=1 MAX_JOBS="${MAX_JOBS:-2}" \
            "$py" -m pip wheel --quiet --no-deps --no-build-isolation "$work/mmcv-$MMCV_VERSION" -w "$work/out"
        # Move into the cache only when complete, so an interrupted build is never reused.
        built=$(find "$work/out" -name "mmcv-$MMCV_VERSION-*.whl" | head -n 1)
        mv "$built" "$cache/"
        wheel="$cache/$(basename "$built")"
        echo "built $(basename "$wheel") in $(( $(date +%s) - start )) s, cached in $cache"
    else
        echo "using cached $wheel"
    fi
    pip_install --no-deps --force-reinstall "$wheel"
fi

wheel=$(cached_wheel xtcocotools "$XTCOCOTOOLS_VERSION")
if [ -z "$wheel" ]; then
    # Its setup.py imports numpy and compiles a .pyx without declaring either as a build
    # requirement: build it in a throw-away venv holding this numpy and Cython, so that .venv
    # gets no build-only packages.
    python3 -m venv "$work/build-venv"
    "$work/build-venv/bin/python" -m pip install --quiet --disable-pip-version-check \
        numpy==2.4.6 cython==3.3.1 "$SETUPTOOLS_PIN"
    "$work/build-venv/bin/python" -m pip wheel --quiet --disable-pip-version-check --no-deps --no-build-isolation \
        --no-binary xtcocotools "xtcocotools==$XTCOCOTOOLS_VERSION" -w "$work/out"
    built=$(find "$work/out" -name "xtcocotools-$XTCOCOTOOLS_VERSION-*.whl" | head -n 1)
    mv "$built" "$cache/"
    wheel="$cache/$(basename "$built")"
fi
pip_install --no-deps "$wheel"

pip_install --no-deps "${PINS[@]}"

"$py" -c "import mmcv.ops, mmdet.apis, mmpose.apis; print('mmpose', mmpose.__version__, 'ready')"
