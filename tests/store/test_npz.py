"""The .npz files of the lexical index: read without numpy's header parser, and only real damage named as such."""

import io
import zipfile

import numpy as np
import pytest

from qa.errors import IndexCorruptError
from qa.store.npz import map_npz, parse_header, write_npz

ARRAYS = {
    "ids": np.arange(5, dtype=np.int64),
    "weights": np.linspace(0, 1, 7, dtype=np.float32),
    "vocab": np.frombuffer(b"a\nb", dtype=np.uint8),
    "empty": np.zeros(0, dtype=np.int32),
    "flags": np.array([True, False]),
}


HEADER_CASES = [*ARRAYS.values(), np.zeros((2, 3), np.float16), np.asfortranarray(np.zeros((2, 3))), np.float64(1)]


@pytest.mark.parametrize("version", [(1, 0), (2, 0), (3, 0)])
@pytest.mark.parametrize("array", HEADER_CASES, ids=[*ARRAYS, "2d", "fortran", "scalar"])
def test_headers_numpy_writes_are_parsed(array, version):
    out = io.BytesIO()
    np.lib.format.write_array(out, np.asanyarray(array), version=version)
    out.seek(0)
    assert np.lib.format.read_magic(out) == version
    length = int.from_bytes(out.read(2 if version == (1, 0) else 4), "little")
    header = out.read(length).decode("latin1" if version < (3, 0) else "utf-8")
    fortran = np.ndim(array) > 1 and np.isfortran(array)
    assert parse_header(header) == (np.shape(array), fortran, np.asanyarray(array).dtype)


@pytest.mark.parametrize(
    "header",
    [
        "{'descr': '<i8', 'fortran_order': False}",  # no shape
        "{'descr': '<i8', 'fortran_order': False, 'shape': (3,), 'shape': (3,)}",
        "{'descr': [('a', '<i8')], 'fortran_order': False, 'shape': (3,)}",  # a structured array
        "{'descr': '<i8', 'fortran_order': False, 'shape': (3,)} + 1",
        "{'descr': 'nonsense', 'fortran_order': False, 'shape': (3,)}",
        "",
    ],
)
def test_other_headers_are_refused(header):
    with pytest.raises(ValueError):
        parse_header(header)


def test_written_files_map_and_numpy_reads_them(tmp_path):
    write_npz(tmp_path / "a.npz", ARRAYS)
    mapped = map_npz(tmp_path / "a.npz")
    np.savez(tmp_path / "b.npz", **ARRAYS)  # how numpy writes them: not aligned, still mapped
    for arrays in (mapped, map_npz(tmp_path / "b.npz"), np.load(tmp_path / "a.npz")):
        assert {k: arrays[k].tolist() for k in ARRAYS} == {k: v.tolist() for k, v in ARRAYS.items()}
    assert all(a.ctypes.data % 64 == 0 and not a.flags.writeable for a in mapped.values() if len(a))


def _put_member(path, name, content):
    """Replace or add member `name` of a .npz; a member named compressed.npy is stored compressed."""
    with zipfile.ZipFile(path) as z:
        members = {i.filename: z.read(i) for i in z.infolist()}
    members[name] = content
    with zipfile.ZipFile(path, "w") as z:
        for member, data in members.items():
            z.writestr(member, data, zipfile.ZIP_DEFLATED if member == "compressed.npy" else zipfile.ZIP_STORED)


def _npy(array, cut=0):
    out = io.BytesIO()
    np.lib.format.write_array(out, array)
    return out.getvalue()[: len(out.getvalue()) - cut]


@pytest.mark.parametrize(
    "member, content, why",
    [
        ("ids.npy", _npy(np.arange(5), cut=8), "shorter than its header says"),
        ("ids.npy", b"\x93NUMPY\x01\x00\x05\x00{'x'}", "not one of a plain array"),
        ("ids.npy", b"plain text", "not a .npy file"),
        ("ids.npy", _npy(np.zeros((2, 2))), "not a plain one-dimensional array"),
        ("ids.npy", _npy(np.array(["a", None], dtype=object)), "not a plain one-dimensional array"),
        ("compressed.npy", _npy(np.arange(5)), "compressed"),
    ],
)
def test_damage_is_named(tmp_path, member, content, why):
    path = tmp_path / "a.npz"
    write_npz(path, ARRAYS)
    _put_member(path, member, content)
    with pytest.raises(IndexCorruptError, match=f"a.npz is damaged .*{why}.*qa index build"):
        map_npz(path)


def test_a_file_that_is_no_zip_or_is_missing_is_named(tmp_path):
    (tmp_path / "a.npz").write_bytes(b"not a zip")
    with pytest.raises(IndexCorruptError, match="a.npz is damaged"):
        map_npz(tmp_path / "a.npz")
    with pytest.raises(IndexCorruptError, match="b.npz is missing"):
        map_npz(tmp_path / "b.npz")


def test_a_folder_in_place_of_the_file_is_no_damage(tmp_path):
    # Not a damaged index but a wrong path: the error is the operating system's, which the CLI prints as such.
    (tmp_path / "a.npz").mkdir()
    with pytest.raises(IsADirectoryError):
        map_npz(tmp_path / "a.npz")
