"""Image validation and re-encoding (campaigns.media), with real images built in memory."""

from __future__ import annotations

import hashlib
import io
import struct
import time
import zlib

import pytest
from PIL import ExifTags, Image, ImageCms, PngImagePlugin

from campaigns.media import ImageRejected, ProcessedImage, process_image
from core.errors import ServiceError

# -- builders ----------------------------------------------------------------------------------


def encode(image: Image.Image, fmt: str, **params: object) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format=fmt, **params)
    return buffer.getvalue()


def exif_with_gps(orientation: int) -> Image.Exif:
    exif = Image.Exif()
    exif[ExifTags.Base.Orientation] = orientation
    exif[ExifTags.Base.Make] = "PhoneCo"
    exif[ExifTags.Base.Model] = "Model 7"
    gps = exif.get_ifd(ExifTags.IFD.GPSInfo)
    gps[ExifTags.GPS.GPSLatitudeRef] = "N"
    gps[ExifTags.GPS.GPSLatitude] = (51.0, 30.0, 12.5)
    gps[ExifTags.GPS.GPSLongitudeRef] = "W"
    gps[ExifTags.GPS.GPSLongitude] = (0.0, 7.0, 39.0)
    return exif


def srgb_icc() -> bytes:
    return ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()


def png_chunk(kind: bytes, payload: bytes) -> bytes:
    return struct.pack(">I", len(payload)) + kind + payload + struct.pack(">I", zlib.crc32(kind + payload))


def png_with_declared_size(width: int, height: int) -> bytes:
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + png_chunk(b"IHDR", header)
        + png_chunk(b"IDAT", zlib.compress(b"\x00" * 64))
        + png_chunk(b"IEND", b"")
    )


def two_colour_image(size: tuple[int, int] = (60, 30)) -> Image.Image:
    """Left half red, right half blue, so rotations can be checked."""
    image = Image.new("RGB", size, (220, 0, 0))
    image.paste((0, 0, 220), (size[0] // 2, 0, size[0], size[1]))
    return image


def reopen(result: ProcessedImage) -> Image.Image:
    image = Image.open(io.BytesIO(result.content))
    image.load()
    return image


# -- metadata and orientation -------------------------------------------------------------------


def test_jpeg_with_orientation_and_gps_is_rotated_and_stripped() -> None:
    data = encode(
        two_colour_image((60, 30)),
        "JPEG",
        exif=exif_with_gps(orientation=6),
        comment=b"taken at 12 High Street",
        icc_profile=srgb_icc(),
    )
    source = Image.open(io.BytesIO(data))
    assert source.getexif().get_ifd(ExifTags.IFD.GPSInfo)  # the upload really has GPS data
    assert source.size == (60, 30)

    result = process_image(data=data)

    assert (result.width, result.height) == (30, 60)  # orientation 6: rotated 90° clockwise
    out = reopen(result)
    assert out.format == "JPEG"
    assert out.size == (30, 60)
    assert len(out.getexif()) == 0
    assert "exif" not in out.info
    assert "icc_profile" not in out.info
    assert "comment" not in out.info
    assert b"Exif" not in result.content
    assert b"PhoneCo" not in result.content
    assert b"High Street" not in result.content
    # Rotated clockwise: the left (red) half is now on top.
    top = out.getpixel((15, 5))
    bottom = out.getpixel((15, 55))
    assert top[0] > 150 and top[2] < 80
    assert bottom[2] > 150 and bottom[0] < 80


def test_processed_image_fields() -> None:
    result = process_image(data=encode(two_colour_image(), "JPEG"))
    assert result.mime == "image/jpeg"
    assert result.extension == "jpg"
    assert result.sha256 == hashlib.sha256(result.content).hexdigest()
    assert (result.width, result.height) == (60, 30)


def test_png_stays_png_without_text_exif_or_icc() -> None:
    info = PngImagePlugin.PngInfo()
    info.add_text("Comment", "GPS 51.5N 0.12W")
    info.add_itxt("XML:com.adobe.xmp", "<x:xmpmeta>secret</x:xmpmeta>")
    image = Image.new("RGBA", (20, 10), (0, 128, 0, 128))
    data = encode(image, "PNG", pnginfo=info, exif=exif_with_gps(orientation=1), icc_profile=srgb_icc())
    assert "icc_profile" in Image.open(io.BytesIO(data)).info

    result = process_image(data=data)

    out = reopen(result)
    assert (out.format, out.mode, out.size) == ("PNG", "RGBA", (20, 10))
    assert result.mime == "image/png" and result.extension == "png"
    assert out.getpixel((0, 0)) == (0, 128, 0, 128)  # alpha kept in PNG
    for key in ("Comment", "XML:com.adobe.xmp", "exif", "icc_profile"):
        assert key not in out.info
    assert len(out.getexif()) == 0
    assert b"secret" not in result.content and b"GPS" not in result.content


def test_webp_stays_webp_without_exif_or_xmp() -> None:
    data = encode(
        two_colour_image(), "WEBP", exif=exif_with_gps(orientation=3), xmp=b"<x:xmpmeta>secret</x:xmpmeta>"
    )
    assert "exif" in Image.open(io.BytesIO(data)).info

    result = process_image(data=data)

    out = reopen(result)
    assert out.format == "WEBP" and result.mime == "image/webp" and result.extension == "webp"
    assert out.size == (60, 30)
    assert "exif" not in out.info and "xmp" not in out.info
    assert b"secret" not in result.content and b"PhoneCo" not in result.content
    # Orientation 3 is a half turn: the red half is now on the right.
    assert out.getpixel((50, 15))[0] > 150


def test_palette_png_with_transparency_keeps_it() -> None:
    image = Image.new("P", (8, 8), 0)
    image.putpalette([255, 255, 255, 255, 0, 0] + [0, 0, 0] * 254)
    image.paste(1, (0, 0, 4, 8))
    data = encode(image, "PNG", transparency=0)

    out = reopen(process_image(data=data))

    assert out.mode == "RGBA"
    assert out.getpixel((0, 0)) == (255, 0, 0, 255)
    assert out.getpixel((7, 0))[3] == 0


def test_sixteen_bit_greyscale_png_is_scaled_not_clipped() -> None:
    image = Image.new("I", (4, 4), 0)
    image.paste(32768, (0, 0, 2, 4))
    image = image.convert("I;16")
    assert image.getpixel((0, 0)) == 32768
    out = reopen(process_image(data=encode(image, "PNG")))
    assert out.mode == "L"
    assert 120 <= out.getpixel((0, 0)) <= 135  # 32768 / 256 = 128, not 255
    assert out.getpixel((3, 0)) == 0


def test_cmyk_jpeg_becomes_rgb() -> None:
    data = encode(Image.new("CMYK", (10, 10), (0, 255, 255, 0)), "JPEG")
    out = reopen(process_image(data=data))
    assert out.format == "JPEG" and out.mode == "RGB"
    red, green, blue = out.getpixel((5, 5))
    assert red > 200 and green < 60 and blue < 60


def test_multi_picture_jpeg_from_a_phone_is_accepted_as_jpeg() -> None:
    buffer = io.BytesIO()
    two_colour_image().save(buffer, format="MPO", save_all=True, append_images=[two_colour_image()])
    assert Image.open(io.BytesIO(buffer.getvalue())).format == "MPO"

    result = process_image(data=buffer.getvalue())

    out = reopen(result)
    assert out.format == "JPEG" and result.mime == "image/jpeg"
    assert getattr(out, "n_frames", 1) == 1


def test_large_images_are_scaled_to_the_longest_edge() -> None:
    data = encode(Image.new("RGB", (5000, 100), (10, 20, 30)), "PNG")
    result = process_image(data=data)
    assert (result.width, result.height) == (4096, 82)
    assert reopen(result).size == (4096, 82)
    unscaled = process_image(data=data, max_dimension=None)
    assert (unscaled.width, unscaled.height) == (5000, 100)


# -- rejections ---------------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", ["GIF", "BMP", "TIFF"])
def test_other_formats_are_rejected_even_when_named_jpg(fmt: str, tmp_path) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "holiday.jpg"
    path.write_bytes(encode(two_colour_image(), fmt))
    with pytest.raises(ImageRejected) as caught:
        process_image(data=path.read_bytes())
    assert caught.value.code == "image.format"


def test_a_text_file_is_rejected() -> None:
    with pytest.raises(ImageRejected) as caught:
        process_image(data=b"<svg onload=alert(1)>not an image</svg>\n" * 3)
    assert caught.value.code == "image.format"


def test_an_empty_file_is_rejected() -> None:
    with pytest.raises(ImageRejected) as caught:
        process_image(data=b"")
    assert caught.value.code == "image.corrupt"


def test_a_truncated_jpeg_is_rejected_as_corrupt() -> None:
    data = encode(Image.effect_noise((200, 200), 60).convert("RGB"), "JPEG", quality=95)
    with pytest.raises(ImageRejected) as caught:
        process_image(data=data[: len(data) // 2])
    assert caught.value.code == "image.corrupt"


def test_a_jpeg_cut_inside_its_header_is_rejected_as_corrupt() -> None:
    data = encode(two_colour_image(), "JPEG")
    with pytest.raises(ImageRejected) as caught:
        process_image(data=data[:12])
    assert caught.value.code == "image.corrupt"


def test_a_png_declaring_huge_dimensions_is_rejected_quickly() -> None:
    bomb = png_with_declared_size(100_000, 100_000)
    started = time.perf_counter()
    with pytest.raises(ImageRejected) as caught:
        process_image(data=bomb, max_pixels=10**12)  # even with our own limit out of the way
    assert caught.value.code == "image.decompression_bomb"
    assert time.perf_counter() - started < 1.0


def test_pixel_limit_is_checked_before_decoding() -> None:
    started = time.perf_counter()
    with pytest.raises(ImageRejected) as caught:
        process_image(data=png_with_declared_size(8000, 8000))  # 64 Mpx > 40 Mpx
    assert caught.value.code == "image.too_many_pixels"
    assert time.perf_counter() - started < 1.0


def test_byte_size_is_checked_before_opening() -> None:
    data = encode(two_colour_image(), "PNG")
    with pytest.raises(ImageRejected) as caught:
        process_image(data=data, max_bytes=len(data) - 1)
    assert caught.value.code == "image.too_large"
    assert caught.value.status == 413


def test_image_rejected_is_a_service_error_with_code_and_message() -> None:
    with pytest.raises(ImageRejected) as caught:
        process_image(data=b"GIF89a")
    error = caught.value
    assert isinstance(error, ServiceError)
    assert error.code == "image.format"
    assert "JPEG, PNG and WebP" in error.message
