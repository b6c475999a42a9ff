"""Read any photo a user throws at us as an upright RGB uint8 array, or fail with one clear line.

Pillow does the decoding because it applies EXIF orientation and reads 16-bit, grayscale,
palette and alpha images that would otherwise reach a detector in the wrong shape or range.
"""

from pathlib import Path

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from lifter.errors import SvmacError

# iPhones save photos as HEIC, which Pillow reads only through the optional pillow-heif plugin (its
# wheels carry the GPL x265 encoder, so it is an extra, not a dependency): pip install "svmac[heic]".
HEIF_EXTENSIONS: tuple[str, ...] = (".heic", ".heif")
HEIF_HINT = 'pip install "pillow-heif==1.8.1" (or the svmac[heic] extra)'
PILLOW_EXTENSIONS: tuple[str, ...] = (".jpg", ".jpeg", ".png", ".bmp", ".tif", ".tiff", ".webp", ".avif")
IMAGE_EXTENSIONS: tuple[str, ...] = PILLOW_EXTENSIONS + HEIF_EXTENSIONS
# Beyond this a photo is a mistake or a decompression bomb; 100 MP is more than any camera phone.
MAX_PIXELS = 100_000_000


def is_image_path(path: Path) -> bool:
    return path.suffix.lower() in IMAGE_EXTENSIONS


def register_heif_reader(path: Path) -> None:
    """Teach Pillow HEIC/HEIF before opening one; a clear line when the optional plugin is missing."""
    try:
        from pillow_heif import register_heif_opener
    except ImportError:
        raise SvmacError(f"{path}: a HEIC/HEIF photo needs the optional reader: {HEIF_HINT}") from None
    register_heif_opener()  # idempotent


def to_rgb_uint8(image: Image.Image) -> np.ndarray:
    """Any Pillow image -> (H, W, 3) uint8 RGB. Alpha is composited on white, 16-bit scaled to 8."""
    if image.mode in ("I;16", "I;16B", "I;16L", "I"):
        values = np.asarray(image, dtype=np.float64)
        top = 65535.0 if image.mode.startswith("I;16") or values.max() > 255 else 255.0
        gray = np.clip(values / top * 255.0 + 0.5, 0, 255).astype(np.uint8)
        return np.repeat(gray[..., None], 3, axis=-1)
    if image.mode == "F":
        values = np.asarray(image, dtype=np.float64)
        top = 1.0 if values.max() <= 1.0 else 255.0
        gray = np.clip(values / top * 255.0 + 0.5, 0, 255).astype(np.uint8)
        return np.repeat(gray[..., None], 3, axis=-1)
    if image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info):
        rgba = image.convert("RGBA")
        background = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        return np.asarray(Image.alpha_composite(background, rgba).convert("RGB"))
    return np.asarray(image.convert("RGB"))


def load_image(path: str | Path) -> np.ndarray:
    """Read an image file upright (EXIF orientation applied). -> (H, W, 3) uint8 RGB.

    Raises SvmacError with a one-line reason for a missing, unreadable, non-image or huge file.
    """
    path = Path(path)
    if not path.exists():
        raise SvmacError(f"{path}: no such file")
    if path.is_dir():
        raise SvmacError(f"{path}: is a folder, not an image")
    if path.suffix.lower() in HEIF_EXTENSIONS:
        register_heif_reader(path)
    try:
        with Image.open(path) as image:
            width, height = image.size
            if width * height > MAX_PIXELS:
                raise SvmacError(
                    f"{path}: image is {width}x{height} = {width * height / 1e6:.0f} MP, "
                    f"more than the {MAX_PIXELS / 1e6:.0f} MP limit; downscale it first"
                )
            image.load()
            upright = ImageOps.exif_transpose(image)
            return np.ascontiguousarray(to_rgb_uint8(upright))
    except SvmacError:
        raise
    except UnidentifiedImageError:
        raise SvmacError(f"{path}: not an image file (or a format Pillow cannot read)") from None
    except Image.DecompressionBombError as err:
        raise SvmacError(f"{path}: refused as too large ({err})") from None
    except (OSError, ValueError, SyntaxError) as err:
        raise SvmacError(f"{path}: cannot read image ({err})") from None
