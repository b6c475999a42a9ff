"""Running MediaPipe 0.10.21's own graphs (inside the wheel, offline) with a graph of our choosing.

The legacy `Pose` solution wires person detection to landmarks for one person only. Its building
blocks are registered in the wheel's binary (`PoseDetectionCpu`, `PoseLandmarkByRoiCpu`), so a
small graph text can run each one alone: we decide which regions the landmark model looks at.

A model can run on several of the machine's cores (XNNPACK's threads): MediaPipe's desktop build
gives each model one thread, and its Python API cannot reach the delegate's options inside a
subgraph. On 2 cores, two threads took the landmark model from 28 to 18 ms a run, with the same
landmarks (tests/test_mediapipe_adapter.py checks that). The person detector instead runs its views
side by side on one-thread graphs (detector_adapters.person_detector says why).
"""

import contextlib
import ctypes
import os
from collections.abc import Iterator, Mapping

from lifter.errors import SvmacError

# MediaPipe's own cap where it picks a thread count itself (its mobile builds: half the cores, 1 to 4):
# these models are small, and more threads mostly wait on each other.
MAX_INFERENCE_THREADS = 4


def default_inference_threads() -> int:
    """Threads for each model: the cores this process may use, at most MAX_INFERENCE_THREADS."""
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    return max(1, min(MAX_INFERENCE_THREADS, cores))


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
    threads: int | None = None,
):
    """A running MediaPipe graph from its text form. -> mediapipe's SolutionBase (`.process(dict)`, `.close()`).

    outputs may name streams inside the expanded subgraphs (e.g. a score the subgraph keeps to itself).
    threads: XNNPACK threads of each model in the graph (default: default_inference_threads()).
    Raises SvmacError when MediaPipe is not installed.
    """
    os.environ.setdefault("GLOG_minloglevel", "2")
    try:
        with quiet_stderr():
            from google.protobuf import text_format
            from mediapipe.calculators.tensor.inference_calculator_pb2 import InferenceCalculatorOptions
            from mediapipe.framework import calculator_pb2
            from mediapipe.python.solution_base import SolutionBase
    except ImportError as err:
        raise SvmacError(
            f"MediaPipe is not installed ({err}): run bash scripts/install.sh, "
            "or pip install --no-deps mediapipe==0.10.21"
        ) from None
    threads = default_inference_threads() if threads is None else threads
    if threads < 1:
        raise ValueError(f"threads must be at least 1, got {threads}")

    class ThreadedSolution(SolutionBase):
        """SolutionBase whose models run on `threads` threads. The hook is the step (private in MediaPipe
        0.10.21, which we pin) that returns the graph expanded down to its calculators: the only place
        the inference calculators inside the subgraphs can be reached."""

        def _initialize_graph_interface(self, *args, **kwargs):
            expanded = super()._initialize_graph_interface(*args, **kwargs)
            inference = [node for node in expanded.node if node.calculator.startswith("InferenceCalculator")]
            self.inference_options = [set_inference_threads(n, threads, InferenceCalculatorOptions) for n in inference]
            return expanded

    config = text_format.Parse(graph_text, calculator_pb2.CalculatorGraphConfig())
    with quiet_stderr():
        return ThreadedSolution(
            graph_config=config,
            side_inputs=dict(side_inputs or {}),
            calculator_params=dict(calculator_params or {}),
            outputs=outputs,
        )


def set_inference_threads(node, threads: int, options_type):
    """Sets an inference calculator node's XNNPACK thread count, in its proto2 options or its proto3
    node_options, wherever the graph keeps them. -> the node's options as set (InferenceCalculatorOptions)."""
    packed = [entry for entry in node.node_options if entry.type_url.endswith(options_type.DESCRIPTOR.full_name)]
    options = options_type.FromString(packed[0].value) if packed else node.options.Extensions[options_type.ext]
    options.delegate.xnnpack.num_threads = threads
    if packed:
        packed[0].value = options.SerializeToString()
    return options
