"""Running MediaPipe 0.10.21's own graphs (inside the wheel, offline) with a graph of our choosing.

The legacy `Pose` solution wires person detection to landmarks for one person only. Its building
blocks are registered in the wheel's binary (`PoseDetectionCpu`, `PoseLandmarkByRoiCpu`), so a
small graph text can run each one alone: we decide which regions the landmark model looks at.
"""

import contextlib
import ctypes
import os
from collections.abc import Iterator, Mapping

from lifter.errors import SvmacError


@contextlib.contextmanager
def quiet_stderr() -> Iterator[None]:
    """Silence TFLite's C++ start-up chatter ("Created TensorFlow Lite XNNPACK delegate ..."),
    which bypasses Python's logging and would bury the tool's own output."""
    saved = os.dup(2)
    try:
        with open(os.devnull, "wb") as devnull:
            os.dup2(devnull.fileno(), 2)
            yield
    finally:
        # TFLite writes through a buffered C stream: flush it while it still points at /dev/null.
        ctypes.CDLL(None).fflush(None)
        os.dup2(saved, 2)
        os.close(saved)


def solution(
    graph_text: str,
    outputs: list[str],
    side_inputs: Mapping[str, object] | None = None,
    calculator_params: Mapping[str, object] | None = None,
):
    """A running MediaPipe graph from its text form. -> mediapipe's SolutionBase (`.process(dict)`, `.close()`).

    outputs may name streams inside the expanded subgraphs (e.g. a score the subgraph keeps to itself).
    Raises SvmacError when MediaPipe is not installed.
    """
    os.environ.setdefault("GLOG_minloglevel", "2")
    try:
        with quiet_stderr():
            from google.protobuf import text_format
            from mediapipe.framework import calculator_pb2
            from mediapipe.python.solution_base import SolutionBase
    except ImportError as err:
        raise SvmacError(
            f"MediaPipe is not installed ({err}): run bash scripts/install.sh, "
            "or pip install --no-deps mediapipe==0.10.21"
        ) from None
    config = text_format.Parse(graph_text, calculator_pb2.CalculatorGraphConfig())
    with quiet_stderr():
        return SolutionBase(
            graph_config=config,
            side_inputs=dict(side_inputs or {}),
            calculator_params=dict(calculator_params or {}),
            outputs=outputs,
        )
