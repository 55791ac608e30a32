"""Photos of a project's outputs: checked, stripped of metadata and scaled down before they are stored.

A worker's phone photo is several megabytes and carries EXIF data, often with
the GPS position of a resident's street. Nothing of that belongs in a report,
so :func:`prepare_photo` opens the upload with Pillow, keeps only the pixels
(turned upright by the EXIF orientation first), scales the long side down to
``MAX_SIDE`` and encodes a fresh JPEG (transparent parts of a PNG become white).
A file that is not a PNG or JPEG, or that Pillow cannot read, is refused
with a message the worker can act on.
"""

from __future__ import annotations

import io
import warnings

from PIL import Image, ImageOps

from surveyhub.services.errors import N_, Invalid

#: Largest upload accepted, in bytes (a phone's full-size photo fits).
MAX_UPLOAD = 8 * 1024 * 1024
#: Longest side of the stored photo, in pixels: sharp on a printed A4 page, small in the database.
MAX_SIDE = 1600
#: Pixels Pillow may decode at all: refuses decompression bombs long before memory runs out.
MAX_PIXELS = 60_000_000
JPEG_QUALITY = 85


def prepare_photo(data: bytes) -> tuple[bytes, str]:
    """The photo as SurveyHub stores it: ``(bytes, media type)``; raises :class:`Invalid` otherwise."""
    if not data:
        raise Invalid(N_("the photo is empty; choose a JPEG or PNG file"))
    if len(data) > MAX_UPLOAD:
        raise Invalid(N_("the photo is larger than 8 MB; choose a smaller one"))
    if not (data.startswith(b"\xff\xd8\xff") or data.startswith(b"\x89PNG\r\n\x1a\n")):
        raise Invalid(N_("only JPEG or PNG photos can be used"))
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data))
            if image.format not in ("JPEG", "PNG") or image.width * image.height > MAX_PIXELS:
                raise Invalid(N_("only JPEG or PNG photos can be used"))
            if image.format == "JPEG":  # decode at 1/2, 1/4 or 1/8 size while still larger than stored: faster
                ratio = MAX_SIDE / max(image.size)
                image.draft("RGB", (round(image.width * ratio), round(image.height * ratio)))
            image.load()
    except Invalid:
        raise
    except (OSError, ValueError, SyntaxError, Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise Invalid(N_("this photo cannot be read; choose another JPEG or PNG file")) from None
    return _encode(_upright(image))


def _upright(image: Image.Image) -> Image.Image:
    """The pixels only, turned as the camera meant them, on white, scaled to ``MAX_SIDE``."""
    image = ImageOps.exif_transpose(image) or image
    # A new image holds no info dict, EXIF, ICC or text chunks: nothing but pixels is carried over.
    clean = Image.new("RGB", image.size, "white")
    if image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info):
        rgba = image.convert("RGBA")
        clean.paste(rgba, mask=rgba.getchannel("A"))
    else:
        clean.paste(image.convert("RGB"))
    clean.thumbnail((MAX_SIDE, MAX_SIDE), Image.Resampling.LANCZOS)
    return clean


def _encode(image: Image.Image) -> tuple[bytes, str]:
    out = io.BytesIO()
    image.save(out, "JPEG", quality=JPEG_QUALITY, optimize=True)
    return out.getvalue(), "image/jpeg"
