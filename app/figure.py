"""svmac-figure: the paper's qualitative figures from a list of photos.

    svmac-figure photo1.jpg photo2.jpg ... --out figures/in_the_wild      (Figures 5-6)
    svmac-figure frames/*.jpg --ground-truth-3d test_h36m_body3d.npz --out figures/h36m   (Figure 4)

One row per person found (the first person of each photo): the photo with its 2D skeleton,
then the estimated 3D pose from the camera and from a rotated view; with ground truth, the
true pose (aligned to the estimate by a similarity transform, as P-MPJPE does) beside each
estimate and the P-MPJPE in millimetres under the photo. Writes PREFIX.png and PREFIX.pdf.
"""

import argparse
import sys
from pathlib import Path

import numpy as np

from app.demo import add_detector_arguments, add_lifter_arguments, build_detector
from app.pipeline import ImageResult, Lifter, detect_image, lift_results
from detector_adapters.image_io import is_image_path, load_image
from lifter.checkpoint import check_writable
from lifter.errors import SvmacError, exit_on_user_error
from lifter.metrics import p_mpjpe, procrustes_align

FORMATS = (".png", ".pdf")


def read_ground_truth_3d(path: Path) -> dict[str, np.ndarray]:
    """Human3.6M-style annotation npz (imgname (N,), S (N, 17, 3 or 4) camera-frame metres)
    -> {image file name: (17, 3) millimetres}."""
    try:
        with np.load(path) as data:
            names, joints = data["imgname"], data["S"]
    except (OSError, ValueError, KeyError) as err:
        raise SvmacError(f"{path}: not a ground-truth npz with 'imgname' and 'S' ({err})") from None
    if joints.ndim != 3 or joints.shape[1:2] != (17,) or joints.shape[2] < 3:
        raise SvmacError(f"{path}: 'S' must be (N, 17, 3 or 4), got {joints.shape}")
    return {Path(str(name)).name: joints[i, :, :3] * 1000.0 for i, name in enumerate(names)}


def collect_images(inputs: list[str]) -> list[Path]:
    images = []
    for item in map(Path, inputs):
        if item.is_dir():
            images += sorted(p for p in item.rglob("*") if p.is_file() and is_image_path(p))
        elif item.exists():
            images.append(item)
        else:
            raise SvmacError(f"{item}: no such file or folder")
    if not images:
        raise SvmacError("no images given")
    return images


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="svmac-figure", description=__doc__.splitlines()[0])
    p.add_argument("images", nargs="+", help="photos (or folders of photos), one row each, in this order")
    p.add_argument("--out", required=True, help="output prefix: writes PREFIX.png and PREFIX.pdf")
    p.add_argument("--ground-truth-3d", help="npz with imgname and S (N, 17, 3|4) metres, e.g. H36M fixtures")
    p.add_argument("--title", help="figure title")
    p.add_argument("--rotated-view", type=float, default=90.0, help="azimuth of the second 3D view (degrees)")
    p.add_argument("--dpi", type=int, default=150)
    p.add_argument("--overwrite", action="store_true", help="replace existing figures")
    add_detector_arguments(p)
    add_lifter_arguments(p)
    return p


@exit_on_user_error
def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    outputs = [Path(args.out + suffix) for suffix in FORMATS]
    for output in outputs:
        check_writable(output, args.overwrite)
    images = collect_images(args.images)
    truth = read_ground_truth_3d(Path(args.ground_truth_3d)) if args.ground_truth_3d else {}
    lifter = Lifter(Path(args.weights), args.device, args.flip_average)
    detector = build_detector(args)

    results, detections, failed = [], [], {}
    for path in images:
        try:
            image = load_image(path)
            people, _ = detect_image(detector, path, image)
        except SvmacError as err:
            failed[str(path)] = str(err)
            continue
        results.append(ImageResult(path, image))
        detections.append(people[:1])
    lift_results(lifter, results, detections)

    from app.render import GridRow, render_grid

    rows, errors = [], []
    for result in results:
        person = result.people[0] if result.people else None
        gt_mm = truth.get(result.path.name)
        label, gt_shown = result.path.name, None
        if person is not None and gt_mm is not None:
            error = float(p_mpjpe(person.pose_3d_mm[None], gt_mm[None])[0])
            errors.append(error)
            label += f"\nP-MPJPE {error:.0f} mm"
            gt_shown = procrustes_align(gt_mm[None], person.pose_3d_mm[None])[0]
        rows.append(
            GridRow(
                image_rgb=result.image,
                pose_3d=None if person is None else person.pose_3d_mm,
                label=label,
                keypoints_2d=None if person is None else person.keypoints_2d,
                scores=None if person is None else person.scores,
                gt_3d=gt_shown,
            )
        )
    if not rows:
        raise SvmacError("none of the images could be read: " + "; ".join(failed.values()))
    render_grid(
        rows, outputs, min_score=args.min_score, rotated_views_deg=(args.rotated_view,), title=args.title,
        dpi=args.dpi, unit="mm",
    )  # fmt: skip
    print(f"wrote {', '.join(map(str, outputs))} ({len(rows)} rows)")
    if errors:
        print(f"P-MPJPE over the {len(errors)} rows with ground truth: {np.mean(errors):.1f} mm")
    for path, reason in failed.items():
        print(f"error: {reason}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
