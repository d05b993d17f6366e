"""Uploads: PDFs and images checked by content, safe display names, the file store."""

from __future__ import annotations

import io
import struct
import zipfile
import zlib

import pytest
from PIL import Image, ImageCms, PngImagePlugin
from pypdf import PdfWriter

from capital.uploads import (
    MEGABYTE,
    CleanImage,
    FileStore,
    PdfInfo,
    UploadError,
    check_image,
    check_pdf,
    safe_display_name,
)

LIMIT = 5 * MEGABYTE
PIXELS = 20_000_000


def make_pdf(pages: int = 2, **encrypt) -> bytes:
    writer = PdfWriter()
    for _ in range(pages):
        writer.add_blank_page(width=595, height=842)
    writer.add_metadata({"/Title": "Letter of commitment"})
    if encrypt:
        writer.encrypt(**encrypt, algorithm="RC4-128")
    output = io.BytesIO()
    writer.write(output)
    return output.getvalue()


def make_image(fmt: str, size=(40, 30), mode="RGB", **save) -> bytes:
    image = Image.new(mode, size, "red")
    output = io.BytesIO()
    image.save(output, format=fmt, **save)
    return output.getvalue()


def make_zip() -> bytes:
    output = io.BytesIO()
    with zipfile.ZipFile(output, "w") as archive:
        archive.writestr("letter.pdf", "%PDF-1.7 not really")
    return output.getvalue()


def png_header_only(width: int, height: int) -> bytes:
    """A PNG that declares huge dimensions but holds almost no data: a decompression bomb's shape."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    body = chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"\0" * 10)) + chunk(b"IEND", b"")
    return b"\x89PNG\r\n\x1a\n" + body


def code_of(error: pytest.ExceptionInfo[UploadError]) -> str:
    return error.value.reason.code


def test_a_real_pdf_is_accepted():
    data = make_pdf(pages=3)
    info = check_pdf(data, max_bytes=LIMIT)
    assert isinstance(info, PdfInfo)
    assert (info.pages, info.size, len(info.sha256)) == (3, len(data), 64)


def test_a_pdf_that_opens_without_a_password_is_accepted():
    assert check_pdf(make_pdf(user_password="", owner_password="owner"), max_bytes=LIMIT).pages == 2


@pytest.mark.parametrize(
    ("data", "code"),
    [
        (b"<!DOCTYPE html><html><script>alert(1)</script></html>", "upload.not_pdf"),
        (make_zip(), "upload.not_pdf"),
        (b"\x7fELF\x02\x01\x01\x00" + b"\0" * 200, "upload.not_pdf"),
        (b"MZ\x90\x00\x03\x00\x00\x00" + b"\0" * 200, "upload.not_pdf"),
        (b" %PDF-1.7\n", "upload.not_pdf"),
        (b"%PDF-1.7\n<html><body>not a pdf</body></html>\n", "upload.pdf_damaged"),
        (b"%PDF-1.4\n" + make_zip(), "upload.pdf_damaged"),
        (make_pdf()[:-200], "upload.pdf_damaged"),
        (make_pdf()[: len(make_pdf()) // 2], "upload.pdf_damaged"),
        (make_pdf(pages=0), "upload.pdf_empty"),
        (make_pdf(user_password="secret", owner_password="secret"), "upload.pdf_protected"),
        (b"", "upload.empty"),
    ],
    ids=["html", "zip", "elf", "pe", "late-header", "html-with-header", "zip-with-header", "truncated-end",
         "truncated-half", "no-pages", "password", "empty"],
)
def test_what_is_not_a_readable_pdf_is_refused(data, code):
    with pytest.raises(UploadError) as error:
        check_pdf(data, max_bytes=LIMIT)
    assert code_of(error) == code


def test_a_pdf_over_the_size_limit_is_refused():
    data = make_pdf()
    assert check_pdf(data, max_bytes=len(data)).size == len(data)
    with pytest.raises(UploadError) as error:
        check_pdf(data, max_bytes=len(data) - 1)
    assert code_of(error) == "upload.too_large"
    with pytest.raises(UploadError) as error:
        check_pdf(b"%PDF-" + b"0" * (3 * MEGABYTE), max_bytes=int(2.5 * MEGABYTE))
    reason = error.value.reason
    assert reason.message % reason.params == "The file is larger than 2.5 MB."


def test_a_jpeg_photo_loses_its_exif_and_stays_a_jpeg():
    exif = Image.Exif()
    exif[0x013B] = "Jane Photographer"  # Artist
    exif[0x0110] = "Secret camera"  # Model
    data = make_image("JPEG", exif=exif.tobytes())
    assert Image.open(io.BytesIO(data)).getexif()[0x013B] == "Jane Photographer"

    clean = check_image(data, max_bytes=LIMIT, max_pixels=PIXELS)
    assert isinstance(clean, CleanImage) and (clean.ext, clean.mime) == ("jpg", "image/jpeg")
    reopened = Image.open(io.BytesIO(clean.data))
    assert reopened.format == "JPEG" and reopened.size == (40, 30)
    assert "exif" not in reopened.info and len(reopened.getexif()) == 0
    assert b"Jane Photographer" not in clean.data


def test_a_photo_is_turned_upright_before_its_orientation_is_dropped():
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90° clockwise to display
    clean = check_image(make_image("JPEG", size=(40, 30), exif=exif.tobytes()), max_bytes=LIMIT, max_pixels=PIXELS)
    assert Image.open(io.BytesIO(clean.data)).size == (30, 40)


def test_a_png_loses_its_text_chunks_and_colour_profile():
    text = PngImagePlugin.PngInfo()
    text.add_text("Author", "Jane Photographer")
    profile = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    data = make_image("PNG", mode="RGBA", pnginfo=text, icc_profile=profile)
    clean = check_image(data, max_bytes=LIMIT, max_pixels=PIXELS)
    assert (clean.ext, clean.mime) == ("png", "image/png")
    reopened = Image.open(io.BytesIO(clean.data))
    assert reopened.mode == "RGBA" and "Author" not in reopened.info and "icc_profile" not in reopened.info
    assert b"Jane Photographer" not in clean.data


def test_gif_and_webp_become_png_and_palette_transparency_survives():
    image = Image.new("P", (40, 30), 1)
    image.putpalette([0, 0, 0, 255, 0, 0])
    image.paste(0, (0, 0, 10, 10))
    output = io.BytesIO()
    image.save(output, format="GIF", transparency=0)
    gif = output.getvalue()
    clean = check_image(gif, max_bytes=LIMIT, max_pixels=PIXELS)
    reopened = Image.open(io.BytesIO(clean.data))
    assert clean.ext == "png" and reopened.mode == "P" and reopened.info.get("transparency") == 0
    assert check_image(make_image("WEBP"), max_bytes=LIMIT, max_pixels=PIXELS).ext == "png"


@pytest.mark.parametrize(
    ("data", "code"),
    [
        (b"This is a plain text file, renamed photo.jpg", "upload.not_image"),
        (make_pdf(), "upload.not_image"),
        (make_zip(), "upload.not_image"),
        (make_image("BMP"), "upload.not_image"),
        (make_image("TIFF"), "upload.not_image"),
        (make_image("JPEG", size=(400, 300))[:300], "upload.not_image"),
        (make_image("PNG", size=(400, 300))[:-30], "upload.not_image"),
        (png_header_only(100_000, 100_000), "upload.image_too_large"),
        (png_header_only(5000, 5000), "upload.image_too_large"),
        (b"", "upload.empty"),
    ],
    ids=["text", "pdf", "zip", "bmp", "tiff", "truncated-jpeg", "truncated-png", "bomb", "over-max-pixels", "empty"],
)
def test_what_is_not_a_safe_image_is_refused(data, code):
    with pytest.raises(UploadError) as error:
        check_image(data, max_bytes=LIMIT, max_pixels=PIXELS)
    assert code_of(error) == code


def test_image_limits():
    data = make_image("PNG", size=(100, 100))
    assert check_image(data, max_bytes=LIMIT, max_pixels=10_000).ext == "png"
    with pytest.raises(UploadError) as error:
        check_image(data, max_bytes=LIMIT, max_pixels=9_999)
    assert code_of(error) == "upload.image_too_large"
    with pytest.raises(UploadError) as error:
        check_image(data, max_bytes=len(data) - 1, max_pixels=PIXELS)
    assert code_of(error) == "upload.too_large"


@pytest.mark.parametrize(
    ("filename", "expected"),
    [
        ("letter.pdf", "letter.pdf"),
        ("../../etc/passwd", "passwd"),
        ("C:\\x\\y.pdf", "y.pdf"),
        ("/var/www/../../secret.pdf", "secret.pdf"),
        ("..", "file"),
        ("", "file"),
        ("   ", "file"),
        ("folder/", "file"),
        (".htaccess", "htaccess"),
        ("letter.pdf.", "letter.pdf"),
        ("a\x00b\x1b[31mc.pdf", "ab[31mc.pdf"),
        ("invoice\u202efdp.exe", "invoicefdp.exe"),
        ("line\nbreak\ttab.pdf", "line break tab.pdf"),
        ('what?<script>"x".pdf', "whatscriptx.pdf"),
        ("Lettre du maire – Córdoba.pdf", "Lettre du maire – Córdoba.pdf"),
        ("市长的信.pdf", "市长的信.pdf"),
        ("رسالة العمدة.pdf", "رسالة العمدة.pdf"),
        ("Письмо мэра.pdf", "Письмо мэра.pdf"),
        ("Cordoba\u0301.pdf", "Cordobá.pdf"),  # normalised to NFC
    ],
)
def test_safe_display_name(filename, expected):
    assert safe_display_name(filename) == expected


def test_long_names_are_shortened_keeping_the_extension():
    name = safe_display_name("é" * 300 + ".pdf", max_length=50)
    assert len(name) == 50 and name.endswith(".pdf")
    assert len(safe_display_name("x" * 300)) == 100


def test_the_store_saves_reads_and_deletes(tmp_path):
    store = FileStore(tmp_path)
    key = store.save(b"%PDF-1.7 letter")
    assert FileStore.KEY_PATTERN.fullmatch(key)
    assert store.path(key) == tmp_path / key[:2] / key
    assert store.exists(key) and store.read(key) == b"%PDF-1.7 letter"
    with store.open(key) as file:
        assert file.read() == b"%PDF-1.7 letter"
    assert store.save(b"other") != key
    store.delete(key)
    assert not store.exists(key)
    store.delete(key)  # twice is fine: tasks may retry
    with pytest.raises(FileNotFoundError):
        store.open(key)
    leftovers = [path.name for path in tmp_path.rglob(".upload-*")]
    assert leftovers == []


@pytest.mark.parametrize(
    "key",
    ["../../etc/passwd", "..", "", "a" * 31, "a" * 33, "aa/" + "a" * 29, "/" + "a" * 31, "a" * 31 + "\0",
     "." * 32, "a" * 31 + "\n", "ab\\" + "a" * 29, None],
)
def test_the_store_refuses_keys_it_did_not_make(tmp_path, key):
    store = FileStore(tmp_path)
    for action in (store.path, store.open, store.read, store.exists, store.delete):
        with pytest.raises(ValueError):
            action(key)


def test_a_failed_write_leaves_nothing_behind(tmp_path, monkeypatch):
    store = FileStore(tmp_path)

    def broken_replace(source, target):
        raise OSError("disk full")

    monkeypatch.setattr("capital.uploads.os.replace", broken_replace)
    with pytest.raises(OSError, match="disk full"):
        store.save(b"data")
    assert [path for path in tmp_path.rglob("*") if path.is_file()] == []


@pytest.mark.parametrize("name", ["../../etc/passwd.pdf", "C:\\Users\\x\\letter.pdf", "/tmp/a.pdf", "a/b.pdf"])
def test_a_file_name_with_a_folder_path_is_refused(name):
    from capital.uploads import UploadError, check_file_name

    with pytest.raises(UploadError) as refused:
        check_file_name(name)
    assert refused.value.reason.code == "upload.path_in_name"


@pytest.mark.parametrize("name", ["lettre.pdf", "Brief des OB.pdf", "رسالة.pdf", "信.pdf", "report..final.pdf"])
def test_a_plain_file_name_is_accepted(name):
    from capital.uploads import check_file_name

    check_file_name(name)


# --- active content in PDFs ----------------------------------------------------------------

def _pdf_with(change) -> bytes:
    """A one-page PDF after ``change(writer, page)`` adds something to it."""
    from pypdf.generic import DictionaryObject, NameObject, TextStringObject  # noqa: F401  (for the lambdas)

    writer = PdfWriter()
    page = writer.add_blank_page(width=595, height=842)
    change(writer, page)
    buffer = io.BytesIO()
    writer.write(buffer)
    return buffer.getvalue()


def _action(kind: str, **entries):
    from pypdf.generic import DictionaryObject, NameObject, TextStringObject

    action = DictionaryObject({NameObject("/S"): NameObject(kind)})
    for key, value in entries.items():
        action[NameObject(f"/{key}")] = TextStringObject(value)
    return action


def _set(target, key, value):
    from pypdf.generic import NameObject

    target[NameObject(key)] = value


ACTIVE_PDFS = {
    "JavaScript": lambda w, p: _set(w._root_object, "/OpenAction", _action("/JavaScript", JS="app.alert(1)")),
    "Launch": lambda w, p: _set(w._root_object, "/OpenAction", _action("/Launch", F="calc.exe")),
    "EmbeddedFiles": lambda w, p: w.add_attachment("invoice.exe", b"MZ..."),
    "AA": lambda w, p: _set(p, "/AA", _action("/JavaScript", JS="app.alert(2)")),
    "SubmitForm": lambda w, p: _set(w._root_object, "/OpenAction", _action("/SubmitForm", F="https://evil.example/")),
}


@pytest.mark.parametrize("name", ACTIVE_PDFS)
def test_a_pdf_with_active_content_is_refused_and_says_what(name):
    with pytest.raises(UploadError) as error:
        check_pdf(_pdf_with(ACTIVE_PDFS[name]), max_bytes=LIMIT)
    assert code_of(error) == "upload.pdf_active"
    assert error.value.reason.params["what"] in {name, "JavaScript", "Launch", "EmbeddedFiles", "EmbeddedFile",
                                                 "SubmitForm", "JS", "AA", "OpenAction"}


@pytest.mark.parametrize("kind", ["/Launch", "/JavaScript"])
def test_active_content_reachable_only_through_an_outline_item_s_parent_is_refused(kind):
    from pypdf.generic import DictionaryObject, NameObject, TextStringObject

    def hide_behind_a_parent(writer, page):
        # An outline item whose /Parent is not the outline but a dictionary of its own carrying the
        # action, and pointing back to the item: a cycle the walk must follow once, not forever.
        item = writer._add_object(DictionaryObject({NameObject("/Title"): TextStringObject("Letter")}))
        hidden = writer._add_object(DictionaryObject({
            NameObject("/Type"): NameObject("/Outlines"), NameObject("/First"): item, NameObject("/Last"): item,
            NameObject("/A"): _action(kind, F="calc.exe", JS="app.alert(1)")}))
        outline = writer._add_object(DictionaryObject({
            NameObject("/Type"): NameObject("/Outlines"), NameObject("/First"): item, NameObject("/Last"): item}))
        item.get_object()[NameObject("/Parent")] = hidden
        hidden.get_object()[NameObject("/Parent")] = item
        _set(writer._root_object, "/Outlines", outline)

    with pytest.raises(UploadError) as error:
        check_pdf(_pdf_with(hide_behind_a_parent), max_bytes=LIMIT)
    assert code_of(error) == "upload.pdf_active"
    assert error.value.reason.params["what"] in {"Launch", "JavaScript", "JS"}


def test_an_open_action_that_only_shows_a_page_is_accepted():
    from pypdf.generic import ArrayObject, NameObject

    def fit_first_page(writer, page):
        _set(writer._root_object, "/OpenAction", ArrayObject([page.indirect_reference, NameObject("/Fit")]))

    assert check_pdf(_pdf_with(fit_first_page), max_bytes=LIMIT).pages == 1


def test_active_content_hidden_in_a_compressed_object_stream_is_found():
    """The catalog and its JavaScript packed in a deflated object stream: no '/JavaScript' in the bytes."""
    objects = [b"<< /Type /Catalog /Pages 2 0 R /OpenAction << /S /J#61vaScript /JS (app.alert(1)) >> >>",
               b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
               b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] >>"]
    body, offsets = b"", []
    for obj in objects:
        offsets.append(len(body))
        body += obj + b"\n"
    header = b" ".join(b"%d %d" % (number, offset) for number, offset in zip((1, 2, 3), offsets)) + b"\n"
    packed = zlib.compress(header + body)
    pdf = b"%PDF-1.5\n"
    stream_at = len(pdf)
    pdf += (b"4 0 obj\n<< /Type /ObjStm /N 3 /First %d /Filter /FlateDecode /Length %d >>\nstream\n"
            % (len(header), len(packed)) + packed + b"\nendstream\nendobj\n")
    xref_at = len(pdf)
    rows = [struct.pack(">BIH", 0, 0, 65535)] + [struct.pack(">BIH", 2, 4, index) for index in range(3)]
    rows += [struct.pack(">BIH", 1, stream_at, 0), struct.pack(">BIH", 1, xref_at, 0)]
    table = zlib.compress(b"".join(rows))
    pdf += (b"5 0 obj\n<< /Type /XRef /Size 6 /W [1 4 2] /Root 1 0 R /Filter /FlateDecode /Length %d >>\nstream\n"
            % len(table) + table + b"\nendstream\nendobj\nstartxref\n%d\n%%%%EOF\n" % xref_at)
    assert b"JavaScript" not in pdf and b"J#61va" not in pdf
    with pytest.raises(UploadError) as error:
        check_pdf(pdf, max_bytes=LIMIT)
    assert code_of(error) == "upload.pdf_active"


def test_image_checks_in_parallel_threads_stay_correct_and_leave_the_warning_filters_alone():
    """No warnings.catch_warnings() per call: that swaps the process-wide filter list under other threads."""
    import threading
    import warnings
    from concurrent.futures import ThreadPoolExecutor

    bomb = png_header_only(20_000, 20_000)  # 400 megapixels, refused from the header
    photo = make_image("JPEG", size=(64, 48))
    filters, changed, stop = warnings.filters, [], threading.Event()

    def watch():
        while not stop.is_set():
            if warnings.filters is not filters:
                changed.append(True)

    watcher = threading.Thread(target=watch)
    watcher.start()

    def check(n):
        if n % 2:
            return check_image(photo, max_bytes=LIMIT, max_pixels=PIXELS).ext
        try:
            check_image(bomb, max_bytes=LIMIT, max_pixels=PIXELS)
        except UploadError as error:
            return error.reason.code

    try:
        with ThreadPoolExecutor(max_workers=8) as pool:
            results = list(pool.map(check, range(200)))
    finally:
        stop.set()
        watcher.join()
    assert results == ["upload.image_too_large", "jpg"] * 100
    assert not changed


def test_an_image_past_pillow_s_own_limit_is_refused_as_too_large():
    bomb = png_header_only(12_000, 12_000)  # 144 megapixels: between Pillow's warning and error thresholds
    with pytest.raises(UploadError) as error:
        check_image(bomb, max_bytes=LIMIT, max_pixels=10**9)
    assert code_of(error) == "upload.image_too_large"


# A PNG of ``width`` × ``height`` transparent pixels: a few kilobytes that decode to 4 bytes a pixel.
_MEASURE = """
import io, resource, subprocess, sys
from PIL import Image
from capital.services.nominations import MAX_IMAGE_PIXELS
from capital.uploads import UploadError, check_image
width, height = int(sys.argv[1]), int(sys.argv[2])
buffer = io.BytesIO()
Image.new("RGBA", (width, height), 0).save(buffer, "PNG")
data = buffer.getvalue()
del buffer
# The peak so far includes making the image: measure in a fresh process (the child below).
child = subprocess.run([sys.executable, "-c", '''
import resource, sys
from capital.services.nominations import MAX_IMAGE_PIXELS
from capital.uploads import UploadError, check_image
data = sys.stdin.buffer.read()
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
try:
    check_image(data, max_bytes=len(data) + 1, max_pixels=MAX_IMAGE_PIXELS)
    outcome = "accepted"
except UploadError as error:
    outcome = error.reason.code
print(outcome, (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) // 1024)
'''], input=data, capture_output=True, check=True)
print(len(data), child.stdout.decode().strip())
"""


def _check_in_a_fresh_process(width: int, height: int) -> tuple[int, str, int]:
    """The file's size, what check_image said (``accepted`` or the refusal's code) and how many MB
    the checking process grew by, at the limit a nomination's images are checked against."""
    import subprocess
    import sys

    out = subprocess.run([sys.executable, "-c", _MEASURE, str(width), str(height)], capture_output=True, check=True,
                         text=True).stdout.split()
    return int(out[0]), out[1], int(out[2])


def test_a_small_file_of_many_pixels_is_refused_and_the_largest_accepted_stays_bounded_in_memory():
    # The attack: a 40-megapixel PNG of about 150 KB once grew a worker by 300–450 MB.
    size, outcome, _ = _check_in_a_fresh_process(8000, 5000)
    assert size < 200_000 and outcome == "upload.image_too_large"
    # A phone's 12-megapixel photo is accepted; the largest image accepted costs a bounded amount.
    assert _check_in_a_fresh_process(4032, 3024)[1] == "accepted"
    _, outcome, grown_mb = _check_in_a_fresh_process(4000, 4000)
    assert outcome == "accepted" and grown_mb < 200
