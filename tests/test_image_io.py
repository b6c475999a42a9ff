import sys

import numpy as np
import pytest
from PIL import Image

import detector_adapters.image_io as image_io
from detector_adapters.image_io import is_image_path, load_image
from lifter.errors import SvmacError

EXIF_ORIENTATION = 0x0112


def test_reads_a_photo_as_rgb_uint8(packaged_photo):
    image = load_image(packaged_photo)
    assert image.shape == (600, 512, 3) and image.dtype == np.uint8


def test_grayscale_becomes_three_equal_channels(packaged_photo, tmp_path):
    gray = Image.open(packaged_photo).convert("L")
    gray.save(tmp_path / "gray.png")
    image = load_image(tmp_path / "gray.png")
    assert image.shape == (600, 512, 3)
    np.testing.assert_array_equal(image[..., 0], np.asarray(gray))
    np.testing.assert_array_equal(image[..., 0], image[..., 2])


def test_sixteen_bit_is_scaled_to_eight(packaged_photo, tmp_path):
    gray = np.asarray(Image.open(packaged_photo).convert("L")).astype(np.uint16)
    Image.fromarray(gray * 257).save(tmp_path / "deep.png")  # 16-bit PNG, full range
    assert Image.open(tmp_path / "deep.png").mode.startswith("I")
    image = load_image(tmp_path / "deep.png")
    assert image.dtype == np.uint8
    np.testing.assert_array_equal(image[..., 1], gray)


def test_alpha_is_composited_on_white(packaged_photo, tmp_path):
    rgba = Image.open(packaged_photo).convert("RGBA")
    pixels = np.asarray(rgba).copy()
    pixels[:10, :, 3] = 0  # a transparent top band
    Image.fromarray(pixels).save(tmp_path / "alpha.png")
    image = load_image(tmp_path / "alpha.png")
    assert image.shape == (600, 512, 3)
    assert (image[:10] == 255).all()
    np.testing.assert_array_equal(image[20:], pixels[20:, :, :3])


def test_exif_rotation_is_applied(packaged_photo, tmp_path):
    upright = Image.open(packaged_photo)
    # Stored turned a quarter to the left, with EXIF saying "rotate 90° clockwise to display".
    stored = upright.transpose(Image.Transpose.ROTATE_90)
    exif = Image.Exif()
    exif[EXIF_ORIENTATION] = 6
    stored.save(tmp_path / "turned.jpg", exif=exif, quality=95)
    image = load_image(tmp_path / "turned.jpg")
    assert image.shape == (600, 512, 3)
    difference = np.abs(image.astype(int) - np.asarray(upright).astype(int)).mean()
    assert difference < 4  # JPEG re-encoding only


@pytest.mark.parametrize(
    ("content", "message"),
    [(b"this is not a picture\n", "not an image"), (None, "cannot read image")],
    ids=["text", "truncated-jpeg"],
)
def test_unreadable_files_give_one_line_errors(packaged_photo, tmp_path, content, message):
    path = tmp_path / "bad.jpg"
    path.write_bytes(packaged_photo.read_bytes()[:2000] if content is None else content)
    with pytest.raises(SvmacError, match=message) as caught:
        load_image(path)
    assert "\n" not in str(caught.value)


def test_missing_file_and_folder(tmp_path):
    with pytest.raises(SvmacError, match="no such file"):
        load_image(tmp_path / "absent.jpg")
    with pytest.raises(SvmacError, match="is a folder"):
        load_image(tmp_path)


def test_huge_image_is_refused_before_decoding(packaged_photo, monkeypatch):
    monkeypatch.setattr(image_io, "MAX_PIXELS", 600 * 512 - 1)
    with pytest.raises(SvmacError, match="MP limit"):
        load_image(packaged_photo)


def test_image_extensions_are_case_insensitive(tmp_path):
    assert is_image_path(tmp_path / "a.JPG") and is_image_path(tmp_path / "b.Png")
    assert not is_image_path(tmp_path / "notes.txt")


def test_avif_and_heic_photos_read(packaged_photo, tmp_path):
    """AVIF (Pillow itself) and HEIC, iPhones' format (the optional pillow-heif plugin, in the test extra)."""
    pytest.importorskip("pillow_heif")
    upright = np.asarray(Image.open(packaged_photo).convert("RGB"))
    for name in ("photo.avif", "photo.HEIC"):
        if name.endswith("HEIC"):
            image_io.register_heif_reader(tmp_path / name)  # Pillow can write HEIC once taught
        Image.fromarray(upright).save(tmp_path / name, quality=90)
        assert is_image_path(tmp_path / name)
        image = load_image(tmp_path / name)
        assert image.shape == (600, 512, 3) and image.dtype == np.uint8
        assert np.abs(image.astype(int) - upright).mean() < 6, name  # lossy re-encoding only


def test_heic_without_its_plugin_says_how_to_get_it(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "pillow_heif", None)  # import fails as if not installed
    photo = tmp_path / "IMG_0001.heic"
    photo.write_bytes(b"\x00\x00\x00\x18ftypheic")
    with pytest.raises(SvmacError, match="pillow-heif") as caught:
        load_image(photo)
    assert "\n" not in str(caught.value)
