import subprocess
import sys
from pathlib import Path


def test_importing_the_adapters_and_the_app_loads_no_detector_package():
    """Adapters load their detector only when one is built, so the app starts fast and an
    optional stack that is missing or broken only matters to those who ask for it."""
    code = (
        "import sys\n"
        "import detector_adapters, detector_adapters.mediapipe_adapter, detector_adapters.mmpose_adapter\n"
        "import detector_adapters.ground_truth, detector_adapters.keypoint_mapping, app.demo, app.figure\n"
        "heavy = ('mediapipe', 'mmpose', 'mmdet', 'mmcv', 'mmengine', 'matplotlib')\n"
        "loaded = sorted({m.split('.')[0] for m in sys.modules} & set(heavy))\n"
        "assert not loaded, loaded\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, cwd=Path(__file__).parents[1])
