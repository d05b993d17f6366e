"""Uploaded files, checked by their content and stored under random keys (docs/rules.md).

Plain Python (Pillow and pypdf, no Flask): the web layer passes the bytes it received and
shows the :class:`UploadError`'s message when a file is refused.
"""

from __future__ import annotations

import hashlib
import io
import os
import re
import secrets
import tempfile
import unicodedata
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, NamedTuple

from PIL import Image, ImageOps
from pypdf import PdfReader
from pypdf.errors import DependencyError

from capital.domain.messages import Message, N_, RuleViolation

MEGABYTE = 1024 * 1024

# Formats Pillow may even try to parse: common photo and graphic formats with safe decoders
# (never EPS, which would run Ghostscript).
IMAGE_INPUT_FORMATS = ("PNG", "JPEG", "GIF", "WEBP")
# Pillow warns about images past MAX_IMAGE_PIXELS when it reads their header: make that an error,
# once for the whole process. Toggling it per call with warnings.catch_warnings() would not be
# thread-safe (it swaps the process-wide filter list while other threads decode).
warnings.filterwarnings("error", category=Image.DecompressionBombWarning)

# Names that make a PDF do something when opened or clicked (scripts, launching programs, forms
# sending data, embedded files or media). A letter needs none of them.
ACTIVE_PDF_NAMES = frozenset({
    "/JavaScript", "/JS", "/Launch", "/EmbeddedFile", "/EmbeddedFiles", "/AA", "/RichMedia", "/XFA",
    "/FileAttachment", "/SubmitForm", "/ImportData", "/GoToE", "/Sound", "/Movie",
})
# Walking a PDF's objects stops here: no letter has that many, a crafted file might.
MAX_PDF_OBJECTS = 200_000


class UploadError(RuleViolation):
    """A refused file; ``reason`` is the message to show the person who uploaded it."""


@dataclass(frozen=True)
class PdfInfo:
    pages: int
    sha256: str
    size: int


class CleanImage(NamedTuple):
    """A re-encoded image without metadata, ready to store."""

    data: bytes
    ext: str
    mime: str


def check_pdf(data: bytes, *, max_bytes: int) -> PdfInfo:
    """Check that ``data`` is a readable PDF of at most ``max_bytes``; raise UploadError if not.

    The content decides, not the file name: it must start with ``%PDF-`` and parse with
    pypdf in strict mode, with at least one page, so a renamed web page, archive or program
    is refused and so is a truncated or damaged PDF. A password-protected PDF is refused
    because the board could not read it; one that opens without a password (only its
    editing is restricted) is accepted if it uses RC4, refused if it uses AES while the
    optional ``cryptography`` package is not installed.
    """
    _check_size(data, max_bytes)
    encrypted = UploadError(
        Message(N_("This PDF is protected. Please upload a copy without password or encryption."), {},
                "upload.pdf_protected")
    )
    if not data.startswith(b"%PDF-"):
        raise UploadError(Message(N_("This file is not a PDF document."), {}, "upload.not_pdf"))
    try:
        reader = PdfReader(io.BytesIO(data), strict=True)
        if reader.is_encrypted and not reader.decrypt(""):
            raise encrypted
        pages = len(reader.pages)
    except UploadError:
        raise
    except DependencyError as error:  # AES encryption needs the optional cryptography package
        raise encrypted from error
    except Exception as error:  # a hostile file can make the parser fail in any way
        raise UploadError(
            Message(N_("This PDF file is damaged and can't be read."), {}, "upload.pdf_damaged")
        ) from error
    if pages < 1:
        raise UploadError(Message(N_("This PDF document has no pages."), {}, "upload.pdf_empty"))
    try:
        active = _active_content(reader)
    except Exception as error:  # a hostile object graph can fail in any way
        raise UploadError(
            Message(N_("This PDF file is damaged and can't be read."), {}, "upload.pdf_damaged")
        ) from error
    if active:
        raise UploadError(Message(
            N_("This PDF contains active content (%(what)s), such as scripts, actions or embedded files. "
               "Please upload a plain copy, for example by printing it to a new PDF."),
            {"what": active.lstrip("/")}, "upload.pdf_active"))
    return PdfInfo(pages=pages, sha256=hashlib.sha256(data).hexdigest(), size=len(data))


def _active_content(reader: PdfReader) -> str | None:
    """The first name of active content found in any object reachable from the trailer, or None.

    Every reachable object is resolved, including those packed in compressed object streams
    (pypdf decodes them), and names are compared decoded (``/J#61vaScript`` is ``/JavaScript``).
    An ``/OpenAction`` that only opens a page (a destination, or a ``/GoTo``) is harmless; any
    other opening action is active.
    """
    from pypdf.generic import ArrayObject, DictionaryObject, IndirectObject, NameObject

    seen: set[tuple[int, int]] = set()
    stack = [reader.trailer]
    visited = 0
    while stack:
        node = stack.pop()
        if isinstance(node, IndirectObject):
            reference = (node.idnum, node.generation)
            if reference in seen:
                continue
            seen.add(reference)
            node = node.get_object()
        visited += 1
        if visited > MAX_PDF_OBJECTS:
            raise ValueError("too many objects")
        if isinstance(node, DictionaryObject):  # streams included: their dictionary, not their data
            for key, value in node.items():
                if key in ACTIVE_PDF_NAMES:
                    return key
                if key == "/OpenAction":
                    action = value.get_object()
                    if isinstance(action, DictionaryObject) and action.get("/S") != "/GoTo":
                        return str(action.get("/S") or key)  # name the action: JavaScript, Launch…
                # Every key, /Parent included: an outline item's parent may be a dictionary reached no
                # other way. Cycles (pages and their parents) end at ``seen``.
                stack.append(value)
        elif isinstance(node, ArrayObject):
            stack.extend(node)
        elif isinstance(node, NameObject) and node in ACTIVE_PDF_NAMES:
            return str(node)
    return None


def check_image(data: bytes, *, max_bytes: int, max_pixels: int) -> CleanImage:
    """Check that ``data`` is a PNG, JPEG, GIF or WebP image and return it re-encoded.

    Refuses anything else, damaged images, and images of more than ``max_pixels`` pixels
    (decompression bombs: the size is read from the header before any pixel is decoded).
    The result is a JPEG for a JPEG photo and a PNG otherwise (an animation keeps its first
    frame), turned upright by its EXIF orientation and stripped of all metadata: EXIF (camera,
    GPS position), text chunks and colour profiles.
    """
    _check_size(data, max_bytes)
    too_large = UploadError(
        Message(N_("The image is too large: at most %(limit)s megapixels."), {"limit": _round(max_pixels / 1e6)},
                "upload.image_too_large")
    )
    try:
        with Image.open(io.BytesIO(data), formats=IMAGE_INPUT_FORMATS) as probe:
            if probe.width * probe.height > max_pixels:  # from the header, before any pixel is decoded
                raise too_large
            probe.verify()
        with Image.open(io.BytesIO(data), formats=IMAGE_INPUT_FORMATS) as image:
            source_format = image.format
            if image.width * image.height > max_pixels:  # the header is read again: check again
                raise too_large
            image.load()
            upright = ImageOps.exif_transpose(image)
    except UploadError:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as error:
        raise too_large from error
    except Exception as error:  # not an image, or a damaged one: the decoders fail in many ways
        raise UploadError(
            Message(N_("This file is not an image in a supported format (PNG, JPEG, GIF or WebP)."), {},
                    "upload.not_image")
        ) from error
    return _reencode(upright, source_format)


def check_file_name(filename: str) -> None:
    """Refuse a file name that carries a folder path (``../../etc/passwd.pdf``, ``C:\\x\\y.pdf``).

    Browsers send only the file's own name, so a path is a crafted request, not a person's mistake.
    """
    if re.search(r"[/\\]", filename or ""):
        raise UploadError(Message(N_("The file name must not contain a folder path."), {}, "upload.path_in_name"))


def safe_display_name(filename: str, *, max_length: int = 100, default: str = "file") -> str:
    """A file name safe to show and offer for download, keeping letters of any script.

    Drops any directory part (``/`` or ``\\``), control and formatting characters (including
    the right-to-left override used to disguise extensions), characters that are special in
    file systems or headers, and leading or trailing dots and spaces; shortens the name to
    ``max_length`` characters, keeping the extension. Returns ``default`` if nothing is left.
    """
    name = unicodedata.normalize("NFC", filename or "")
    name = re.split(r"[/\\]", name)[-1]
    name = "".join(" " if char.isspace() else char for char in name)
    name = "".join(char for char in name if unicodedata.category(char)[0] != "C" and char not in '<>:"|?*;')
    name = re.sub(r" {2,}", " ", name).strip(". ")
    if not name:
        return default
    if len(name) > max_length:
        stem, dot, ext = name.rpartition(".")
        if dot and 0 < len(ext) <= 10 and len(ext) + 1 < max_length:
            name = stem[: max_length - len(ext) - 1].rstrip(". ") + "." + ext
        else:
            name = name[:max_length].rstrip(". ")
    return name or default


class FileStore:
    """Files kept under random keys in a directory outside the web root.

    A key is 32 URL-safe characters; files live in ``root/<first two characters>/<key>``.
    Any other key is refused with ``ValueError`` before the disk is touched, so no key can
    reach outside ``root``.
    """

    KEY_PATTERN = re.compile(r"[A-Za-z0-9_-]{32}")

    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    def save(self, data: bytes) -> str:
        """Store ``data`` under a new key and return the key; the file appears whole or not at all."""
        while True:
            key = secrets.token_urlsafe(24)
            path = self.path(key)
            if not path.exists():
                break
        path.parent.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=".upload-")
        try:
            with os.fdopen(handle, "wb") as file:
                file.write(data)
                file.flush()
                os.fsync(file.fileno())
            os.replace(temporary, path)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise
        return key

    def path(self, key: str) -> Path:
        """Where the file for ``key`` lives (for ``send_file``); ValueError for a foreign key."""
        if not isinstance(key, str) or not self.KEY_PATTERN.fullmatch(key):
            raise ValueError(f"not a storage key: {key!r}")
        return self.root / key[:2] / key

    def open(self, key: str) -> BinaryIO:
        """The stored file, opened for reading; FileNotFoundError if it is gone."""
        return self.path(key).open("rb")

    def read(self, key: str) -> bytes:
        return self.path(key).read_bytes()

    def exists(self, key: str) -> bool:
        return self.path(key).is_file()

    def delete(self, key: str) -> None:
        """Remove the file; deleting a file already gone is not an error, so retries are safe."""
        self.path(key).unlink(missing_ok=True)


def _check_size(data: bytes, max_bytes: int) -> None:
    if not data:
        raise UploadError(Message(N_("The file is empty."), {}, "upload.empty"))
    if len(data) > max_bytes:
        raise UploadError(
            Message(N_("The file is larger than %(limit)s MB."), {"limit": _round(max_bytes / MEGABYTE)},
                    "upload.too_large")
        )


def _reencode(image: Image.Image, source_format: str | None) -> CleanImage:
    # Pillow writes some of ``info`` back (ICC profile, EXIF): keep only a palette's transparency.
    image.info = {key: value for key, value in image.info.items() if key == "transparency"}
    output = io.BytesIO()
    if source_format == "JPEG":
        if image.mode not in ("RGB", "L"):
            image = image.convert("RGB")
        image.save(output, format="JPEG", quality=90, optimize=True)
        return CleanImage(output.getvalue(), "jpg", "image/jpeg")
    if image.mode not in ("1", "L", "LA", "P", "RGB", "RGBA"):
        image = image.convert("RGBA")
    image.save(output, format="PNG", optimize=True)
    return CleanImage(output.getvalue(), "png", "image/png")


def _round(value: float) -> int | float:
    """A limit as a person would write it: 10, not 10.0; 2.5, not 2.5000001."""
    rounded = round(value, 1)
    return int(rounded) if rounded == int(rounded) else rounded
