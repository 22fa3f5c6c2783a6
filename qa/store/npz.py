"""Uncompressed .npz files whose arrays start at multiples of 64 bytes, mapped read-only from the file.

The .npy header of each member is parsed here rather than by numpy: numpy reads it with `ast.literal_eval`,
which on Python 3.11 fails now and then when several threads call it at once ("AST constructor recursion
depth mismatch"), and shards are opened in threads. Only the headers numpy writes for plain arrays are read.
"""

from __future__ import annotations

import mmap
import re
import struct
import zipfile
from pathlib import Path

import numpy as np

from qa.errors import IndexCorruptError

NPY_MAGIC = b"\x93NUMPY"
# The length of the header follows the format version: a 2-byte length in 1.0, 4 bytes in 2.0 and 3.0.
_LENGTH_FORMAT = {(1, 0): "<H", (2, 0): "<I", (3, 0): "<I"}
_VALUE = r"'[^']*'|True|False|\(\s*(?:\d+\s*,\s*)*(?:\d+\s*)?\)"
_ENTRY = rf"'(descr|fortran_order|shape)'\s*:\s*({_VALUE})"
_HEADER = re.compile(rf"\{{\s*(?:{_ENTRY}\s*,\s*)*(?:{_ENTRY}\s*)?\}}\s*")


def write_npz(path: Path, arrays: dict[str, np.ndarray]) -> None:
    """Write an uncompressed .npz (np.load reads it) whose arrays start at multiples of 64 bytes, so they map
    aligned."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED, allowZip64=True) as z:
        for name, array in arrays.items():
            array = np.ascontiguousarray(array)
            info = zipfile.ZipInfo(f"{name}.npy", date_time=(1980, 1, 1, 0, 0, 0))
            with z.open(info, "w", force_zip64=True) as out:
                start = z.fp.tell()  # the local header is written: the member's data begins here
                meta = repr(np.lib.format.header_data_from_array_1_0(array)).encode("latin1")
                # The .npy header may be padded with spaces; pad it so the array's bytes are aligned in the file.
                pad = -(start + len(NPY_MAGIC) + 4 + len(meta) + 1) % 64
                header = meta + b" " * pad + b"\n"
                out.write(NPY_MAGIC + b"\x01\x00" + struct.pack("<H", len(header)) + header)
                out.write(memoryview(array.reshape(-1)).cast("B"))


def parse_header(text: str) -> tuple[tuple[int, ...], bool, np.dtype]:
    """(shape, Fortran order, dtype) of a .npy header of a plain array, or ValueError; no `ast`, so any thread."""
    if not _HEADER.fullmatch(text):
        raise ValueError(f"the array header {text.strip()[:80]!r} is not one of a plain array")
    entries = re.findall(_ENTRY, text)
    fields = dict(entries)
    if len(entries) != 3 or fields.keys() != {"descr", "fortran_order", "shape"}:
        raise ValueError(f"the array header {text.strip()[:80]!r} lacks or repeats a key")
    try:
        dtype = np.dtype(fields["descr"][1:-1])
    except TypeError as exc:
        raise ValueError(f"the array header names no dtype ({exc})") from exc
    shape = tuple(int(n) for n in re.findall(r"\d+", fields["shape"]))
    return shape, fields["fortran_order"] == "True", dtype


def damaged(path: Path, why: object) -> IndexCorruptError:
    """The error for an index file that is damaged, saying why and what to do."""
    return IndexCorruptError(f"{path} is damaged ({why}); rebuild the index with `qa index build`")


def _member(path: Path, f, mapped: mmap.mmap, info: zipfile.ZipInfo) -> np.ndarray:
    """One stored member, a .npy file, as an array mapped from the file."""
    if info.compress_type != zipfile.ZIP_STORED:
        raise damaged(path, f"{info.filename} is compressed")
    f.seek(info.header_offset + 26)
    name_len, extra_len = struct.unpack("<HH", f.read(4))
    f.seek(info.header_offset + 30 + name_len + extra_len)
    prefix = f.read(len(NPY_MAGIC) + 2)
    version = tuple(prefix[len(NPY_MAGIC) :])
    if prefix[: len(NPY_MAGIC)] != NPY_MAGIC or version not in _LENGTH_FORMAT:
        raise damaged(path, f"{info.filename} is not a .npy file")
    length_format = _LENGTH_FORMAT[version]
    (length,) = struct.unpack(length_format, f.read(struct.calcsize(length_format)))
    try:
        shape, fortran, dtype = parse_header(f.read(length).decode("utf-8" if version == (3, 0) else "latin1"))
    except (ValueError, UnicodeDecodeError) as exc:
        raise damaged(path, f"{info.filename}: {exc}") from exc
    if fortran or dtype.hasobject or len(shape) != 1:
        raise damaged(path, f"{info.filename} is not a plain one-dimensional array")
    offset, end = f.tell(), info.header_offset + 30 + name_len + extra_len + info.file_size
    if offset + shape[0] * dtype.itemsize > min(end, len(mapped)):
        raise damaged(path, f"{info.filename} is shorter than its header says")
    return np.frombuffer(mapped, dtype=dtype, count=shape[0], offset=offset)


def map_npz(path: Path) -> dict[str, np.ndarray]:
    """The arrays of a file `write_npz` (or np.savez) wrote, mapped read-only (np.load would copy each into
    memory); IndexCorruptError if the file is damaged: not a zip, a member compressed, cut short or not a
    plain array. Errors of another kind (a file that cannot be read) pass through."""
    try:
        with open(path, "rb") as f, zipfile.ZipFile(f) as z:
            mapped = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ)
            return {info.filename.removesuffix(".npy"): _member(path, f, mapped, info) for info in z.infolist()}
    except FileNotFoundError as exc:
        raise IndexCorruptError(f"{path} is missing; rebuild the index with `qa index build`") from exc
    except (zipfile.BadZipFile, struct.error) as exc:
        raise damaged(path, exc) from exc
