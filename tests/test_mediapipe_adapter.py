"""The default detector on real photos: the packaged one always, the shared fixtures when SVMAC_DATA is set."""

import numpy as np
import pytest

pytest.importorskip("mediapipe")

from detector_adapters.image_io import load_image  # noqa: E402
from detector_adapters.mediapipe_adapter import MediaPipeDetector  # noqa: E402

NOSE, LEFT_SHOULDER, RIGHT_SHOULDER, LEFT_HIP = 0, 11, 12, 23


@pytest.fixture(scope="module")
def detector():
    detector = MediaPipeDetector()
    yield detector
    detector.close()


def visible_inside(person, image, min_score=0.5) -> np.ndarray:
    height, width = image.shape[:2]
    visible = person.keypoints[person.scores > min_score]
    return (visible >= 0).all(-1) & (visible[:, 0] <= width) & (visible[:, 1] <= height)


def test_finds_the_person_in_a_packaged_photo(detector, packaged_photo):
    image = load_image(packaged_photo)
    people = detector.detect(image)
    assert len(people) == 1
    person = people[0]
    assert person.keypoint_format == "mediapipe33"
    assert person.keypoints.shape == (33, 2) and person.scores.shape == (33,)
    assert person.world_keypoints.shape == (33, 3) and np.isfinite(person.world_keypoints).all()
    assert visible_inside(person, image).all()
    assert person.scores[[NOSE, LEFT_SHOULDER, RIGHT_SHOULDER]].min() > 0.9
    # She faces the camera: her left shoulder is on the right of the picture, below her nose.
    assert person.keypoints[LEFT_SHOULDER, 0] > person.keypoints[NOSE, 0] > person.keypoints[RIGHT_SHOULDER, 0]
    assert person.keypoints[LEFT_SHOULDER, 1] > person.keypoints[NOSE, 1]
    x0, y0, x1, y1 = person.bbox
    assert 0 <= x0 < x1 <= 512 and 0 <= y0 < y1 <= 600


def test_no_person_is_an_empty_list(detector):
    assert detector.detect(np.full((240, 320, 3), 128, np.uint8)) == []


def test_small_photos_are_upscaled_but_answer_in_their_own_pixels(detector, packaged_photo):
    image = load_image(packaged_photo)
    small = image[::4, ::4].copy()  # 150 x 128 px
    [full] = detector.detect(image)
    [reduced] = detector.detect(small)
    shoulders = [LEFT_SHOULDER, RIGHT_SHOULDER]
    np.testing.assert_allclose(
        reduced.keypoints[shoulders] * 4, full.keypoints[shoulders], atol=20
    )  # 5 px in the small image


def test_rejects_a_non_rgb_array(detector):
    with pytest.raises(ValueError, match="uint8 RGB"):
        detector.detect(np.zeros((10, 10), np.uint8))


def fixture_photos(root):
    return sorted((root / "fixtures").rglob("*.jpg")) + sorted((root / "lsp" / "images").glob("*.jpg"))


def test_finds_people_in_the_fixture_photos(detector, data_dir):
    photos = fixture_photos(data_dir)
    assert len(photos) >= 50
    found = 0
    for path in photos:
        image = load_image(path)
        people = detector.detect(image)
        if people:
            found += 1
            # Visible joints lie in the photo; MediaPipe also calls a joint just past the frame
            # visible (a knee cut off by the bottom edge), so allow a 10 % border.
            visible = people[0].keypoints[people[0].scores > 0.5]
            height, width = image.shape[:2]
            inside = (visible >= 0).all(-1) & (visible[:, 0] <= width) & (visible[:, 1] <= height)
            assert inside.mean() >= 0.8
            assert (np.abs(visible - [width / 2, height / 2]) <= [0.6 * width, 0.6 * height]).all()
    # Every photo shows a person; MediaPipe misses a few of the small LSP sports photos.
    assert found >= 0.85 * len(photos), f"found people in {found} of {len(photos)} photos"
