"""Validate an uploaded image and re-encode it without metadata (pure Python, no ORM).

What ``process_image`` guarantees about its output:

- The format is JPEG, PNG or WebP, decided from the content (Pillow's detection),
  never from a file name or a client's MIME type. Phones' multi-picture JPEGs (MPO)
  count as JPEG. The format is kept: PNG stays PNG, WebP stays WebP, JPEG stays JPEG.
- Size limits are applied before any pixel is decoded: the byte size first, then the
  declared pixel count (``image.too_many_pixels``). Pillow's own decompression-bomb
  guard (its warning as well as its error) gives ``image.decompression_bomb``.
- The EXIF orientation is applied to the pixels, then the image is written afresh:
  no EXIF (so no GPS), no XMP, no IPTC, no comments, no ICC profile. Pixels in
  another colour space (Display P3, Adobe RGB, CMYK with a profile) are converted to
  sRGB first, so colours stay right without the profile; untagged images are sRGB.
- JPEG has no alpha channel: transparent pixels are put on white. Palette images with
  transparency become RGBA; 16-bit greyscale becomes 8-bit.
- An image whose longest edge is over ``max_dimension`` (4096 by default, the most
  any of our platforms displays) is scaled down, keeping its aspect ratio. Pass
  ``max_dimension=None`` to keep the size.
- Only the first frame of an animated WebP or PNG is kept.
- JPEG and WebP are written at quality 85; PNG losslessly.

Thread safety: the decompression-bomb warning is turned into an error with
``warnings.catch_warnings``, which changes process-wide warning filters for the time of
the ``open`` call. Web and worker processes here are forked, not threaded, so this is
safe; a threaded server would at worst see that warning filter briefly.
"""

from __future__ import annotations

import hashlib
import io
import struct
import warnings
from dataclasses import dataclass
from typing import Final

from PIL import (  # the plugin imports register the only decoders we let Pillow use
    Image,
    ImageCms,
    ImageOps,
    JpegImagePlugin,  # noqa: F401
    MpoImagePlugin,  # noqa: F401
    PngImagePlugin,  # noqa: F401
    UnidentifiedImageError,
    WebPImagePlugin,  # noqa: F401
)

from core.errors import InvalidInput

__all__ = ["ALLOWED_FORMATS", "ImageRejected", "ProcessedImage", "process_image"]

DEFAULT_MAX_BYTES: Final = 10 * 1024 * 1024
DEFAULT_MAX_PIXELS: Final = 40_000_000
DEFAULT_MAX_DIMENSION: Final = 4096
JPEG_QUALITY: Final = 85
WEBP_QUALITY: Final = 85

# Pillow format -> (output format, MIME type, extension without the dot)
ALLOWED_FORMATS: Final = {
    "JPEG": ("JPEG", "image/jpeg", "jpg"),
    "MPO": ("JPEG", "image/jpeg", "jpg"),
    "PNG": ("PNG", "image/png", "png"),
    "WEBP": ("WEBP", "image/webp", "webp"),
}
# Decoders Pillow may try: nothing else is ever parsed.
_OPEN_FORMATS: Final = ("JPEG", "PNG", "WEBP")  # MPO files are opened by the JPEG decoder
_CORRUPT_ERRORS: Final = (OSError, SyntaxError, ValueError, EOFError, struct.error)


class ImageRejected(InvalidInput):
    """The upload is not an image we accept. ``code`` says why (``image.format``...)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message, code=code)
        if code == "image.too_large":
            self.status = 413


@dataclass(frozen=True)
class ProcessedImage:
    content: bytes
    mime: str
    extension: str  # without the dot: "jpg", "png", "webp"
    width: int
    height: int
    sha256: str


def process_image(
    *,
    data: bytes,
    max_bytes: int = DEFAULT_MAX_BYTES,
    max_pixels: int = DEFAULT_MAX_PIXELS,
    max_dimension: int | None = DEFAULT_MAX_DIMENSION,
) -> ProcessedImage:
    """Check ``data`` and return it re-encoded without metadata. Raises ``ImageRejected``."""
    if not data:
        raise ImageRejected("image.corrupt", "The file is empty.")
    if len(data) > max_bytes:
        raise ImageRejected(
            "image.too_large", f"The image is {len(data):,} bytes; the most we accept is {max_bytes:,}."
        )
    with _open(data) as image:
        detected = image.format or ""
        if detected not in ALLOWED_FORMATS:
            raise ImageRejected("image.format", "Only JPEG, PNG and WebP images are accepted.")
        width, height = image.size
        if width * height > max_pixels:
            raise ImageRejected(
                "image.too_many_pixels",
                f"The image is {width}×{height} pixels; the most we accept is {max_pixels:,} pixels.",
            )
        try:
            image.load()
        except Image.DecompressionBombError as error:
            raise ImageRejected("image.decompression_bomb", "The image is too large to decode.") from error
        except _CORRUPT_ERRORS as error:
            raise ImageRejected("image.corrupt", "The image file is damaged or incomplete.") from error
        output_format, mime, extension = ALLOWED_FORMATS[detected]
        clean = _prepare_pixels(image, output_format=output_format, max_dimension=max_dimension)

    content = _encode(clean, output_format=output_format)
    if len(content) > max_bytes:
        raise ImageRejected(
            "image.too_large",
            f"The re-encoded image is {len(content):,} bytes; the most we accept is {max_bytes:,}.",
        )
    return ProcessedImage(
        content=content,
        mime=mime,
        extension=extension,
        width=clean.width,
        height=clean.height,
        sha256=hashlib.sha256(content).hexdigest(),
    )


def _open(data: bytes) -> Image.Image:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            return Image.open(io.BytesIO(data), formats=_OPEN_FORMATS)
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as error:
        raise ImageRejected("image.decompression_bomb", "The image is too large to decode.") from error
    except UnidentifiedImageError as error:
        if _looks_like_allowed_format(data):
            raise ImageRejected("image.corrupt", "The image file is damaged or incomplete.") from error
        raise ImageRejected("image.format", "Only JPEG, PNG and WebP images are accepted.") from error
    except _CORRUPT_ERRORS as error:
        raise ImageRejected("image.corrupt", "The image file is damaged or incomplete.") from error


def _looks_like_allowed_format(data: bytes) -> bool:
    return (
        data.startswith(b"\xff\xd8\xff")
        or data.startswith(b"\x89PNG\r\n\x1a\n")
        or (data[:4] == b"RIFF" and data[8:12] == b"WEBP")
    )


def _prepare_pixels(image: Image.Image, *, output_format: str, max_dimension: int | None) -> Image.Image:
    """Oriented, sRGB, in a mode the output format can store, scaled down, with no metadata."""
    try:
        oriented = ImageOps.exif_transpose(image)
    except _CORRUPT_ERRORS:
        oriented = image.copy()  # unreadable EXIF: keep the pixels as stored
    icc_profile = image.info.get("icc_profile")

    pixels = _normalise_mode(oriented)
    pixels = _to_srgb(pixels, icc_profile)
    pixels = _mode_for_format(pixels, output_format)
    if max_dimension is not None and max(pixels.size) > max_dimension:
        pixels.thumbnail((max_dimension, max_dimension), Image.Resampling.LANCZOS)
    pixels.info = {}  # nothing from the upload is written back: no EXIF, XMP, ICC, comments
    return pixels


def _normalise_mode(image: Image.Image) -> Image.Image:
    has_transparency = "transparency" in image.info
    if image.mode in ("P", "PA"):
        return image.convert("RGBA" if has_transparency or image.mode == "PA" else "RGB")
    if image.mode in ("RGB", "L") and has_transparency:
        return image.convert("RGBA" if image.mode == "RGB" else "LA")
    if image.mode == "1":
        return image.convert("L")
    if image.mode.startswith("I") or image.mode == "F":
        # 16-bit (or wider) greyscale: scale to 8 bits rather than clip.
        return image.convert("I").point(lambda value: value * (1 / 256)).convert("L")
    if image.mode in ("L", "LA", "RGB", "RGBA", "CMYK"):
        return image
    return image.convert("RGB")


def _to_srgb(image: Image.Image, icc_profile: bytes | None) -> Image.Image:
    if not icc_profile or image.mode not in ("RGB", "RGBA", "CMYK"):
        return image
    output_mode = "RGBA" if image.mode == "RGBA" else "RGB"
    try:
        source = ImageCms.ImageCmsProfile(io.BytesIO(icc_profile))
        converted = ImageCms.profileToProfile(
            image, source, ImageCms.createProfile("sRGB"), outputMode=output_mode
        )
    except (ImageCms.PyCMSError, OSError, ValueError, TypeError):
        # A broken profile: keep the pixels as they are, just without the profile.
        return image.convert(output_mode) if image.mode == "CMYK" else image
    return converted if converted is not None else image


def _mode_for_format(image: Image.Image, output_format: str) -> Image.Image:
    if image.mode == "CMYK":
        image = image.convert("RGB")
    if output_format == "JPEG":
        if image.mode in ("RGBA", "LA"):
            return _flatten_on_white(image)
        return image
    if output_format == "WEBP" and image.mode in ("L", "LA"):
        return image.convert("RGBA" if image.mode == "LA" else "RGB")
    return image


def _flatten_on_white(image: Image.Image) -> Image.Image:
    rgba = image.convert("RGBA")
    background = Image.new("RGB", rgba.size, (255, 255, 255))
    background.paste(rgba, mask=rgba.getchannel("A"))
    return background if image.mode == "RGBA" else background.convert("L")


def _encode(image: Image.Image, *, output_format: str) -> bytes:
    buffer = io.BytesIO()
    if output_format == "JPEG":
        image.save(buffer, format="JPEG", quality=JPEG_QUALITY, optimize=True, progressive=True)
    elif output_format == "PNG":
        image.save(buffer, format="PNG", compress_level=6)
    else:
        image.save(buffer, format="WEBP", quality=WEBP_QUALITY, method=4)
    return buffer.getvalue()
