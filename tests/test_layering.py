"""Layers point one way (app -> detector_adapters -> lifter): no lifter module imports a higher layer."""

import ast
from pathlib import Path

import pytest

LIFTER = Path(__file__).parents[1] / "lifter"
HIGHER_LAYERS = ("detector_adapters", "app")


def imported_modules(source: str) -> set[str]:
    """Every module an `import` or `from ... import` statement names, anywhere in the file
    (function-level imports included). Relative imports stay inside their package and are skipped."""
    names = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module)
    return names


def higher_layer_imports(source: str) -> set[str]:
    return {name for name in imported_modules(source) if name.split(".")[0] in HIGHER_LAYERS}


def test_the_check_sees_every_form_of_import():
    source = (
        "import numpy\n"
        "from detector_adapters.keypoint_mapping import MAPPINGS\n"
        "def f():\n"
        "    import app.demo\n"
        "    from app import pipeline\n"
        "from . import sibling\n"
        "import lifter.skeleton, detector_adapters\n"
        "import applications\n"
    )
    expected = {"detector_adapters.keypoint_mapping", "app.demo", "app", "detector_adapters"}
    assert higher_layer_imports(source) == expected


@pytest.mark.parametrize("path", sorted(LIFTER.glob("*.py")), ids=lambda p: p.name)
def test_no_lifter_module_imports_a_higher_layer(path: Path):
    assert higher_layer_imports(path.read_text()) == set(), f"{path.name} imports a higher layer"


def test_the_lifter_package_is_checked():
    assert len(list(LIFTER.glob("*.py"))) >= 10  # the glob above found the package, not an empty folder
