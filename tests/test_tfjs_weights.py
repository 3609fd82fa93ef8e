"""TensorFlow.js weights format: round trips, converter-compatible shards, tfjs-exact decoding,
and every safety rule of the reader."""

from __future__ import annotations

import json
import os
import tracemalloc
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from tfjs_lstm.errors import InputError
from tfjs_lstm.formats.tfjs_weights import dequantization_bound, read_weights, write_weights

FAST = settings(max_examples=40, deadline=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture])
SHAPES = st.lists(st.integers(0, 5), min_size=0, max_size=3)


def _fresh(tmp_path: Path, name: str) -> Path:
    folder = tmp_path / name
    folder.mkdir()
    return folder


def _make(folder: Path, shards: dict[str, bytes]) -> None:
    for name, data in shards.items():
        (folder / name).write_bytes(data)


def _rejects(folder: Path, manifest: object, pointer: str, *fragments: str) -> InputError:
    with pytest.raises(InputError) as caught:
        read_weights(folder, manifest)
    err = caught.value
    assert err.file == os.fspath(folder / "model.json")
    assert err.pointer == pointer
    text = str(err)
    assert "\n" not in text and text.startswith(f"{err.file}:{pointer}: ")
    for fragment in fragments:
        assert fragment in text
    return err


def _one(shape: list, dtype: str = "float32", **extra: object) -> list[dict]:
    return [{"paths": ["group1-shard1of1.bin"],
             "weights": [{"name": "w", "shape": shape, "dtype": dtype, **extra}]}]


# ---------------------------------------------------------------- round trips

@FAST
@given(specs=st.lists(st.tuples(st.sampled_from(["float32", "int32", "bool"]), SHAPES),
                      max_size=4),
       shard=st.integers(1, 64), seed=st.integers(0, 2**32 - 1))
def test_plain_weights_round_trip_bit_exact(tmp_path_factory, specs, shard, seed):
    folder = tmp_path_factory.mktemp("w")
    rng = np.random.default_rng(seed)
    weights = []
    for i, (dtype, shape) in enumerate(specs):
        if dtype == "bool":
            array = rng.integers(0, 2, shape).astype(bool)
        else:  # every bit pattern, NaN payloads and -0.0 included
            array = rng.integers(0, 2**32, shape, dtype=np.uint32).view(dtype)
        weights.append((f"layer/w{i}", array))
    manifest = write_weights(folder, weights, shard_size_bytes=shard)
    total = sum(a.nbytes for _, a in weights)
    assert sorted(os.listdir(folder)) == sorted(manifest[0]["paths"])
    assert len(manifest[0]["paths"]) == -(-total // shard)
    back = read_weights(folder, manifest)
    assert list(back) == [name for name, _ in weights]
    for name, array in weights:
        assert back[name].dtype == array.dtype and back[name].shape == array.shape
        assert back[name].tobytes() == array.tobytes()


@FAST
@given(shape=SHAPES, method=st.sampled_from(["float16", "uint8", "uint16"]),
       spread=st.sampled_from([1e-6, 1.0, 1e3, 6e4]), shift=st.sampled_from([0.0, 0.5, -3.0]),
       seed=st.integers(0, 2**32 - 1), shard=st.integers(1, 50))
def test_quantized_round_trip_within_bound(tmp_path_factory, shape, method, spread, shift, seed,
                                           shard):
    folder = tmp_path_factory.mktemp("q")
    rng = np.random.default_rng(seed)
    data = ((rng.standard_normal(shape) + shift) * spread / 4).astype(np.float32)
    assume(method != "float16" or np.abs(data).max(initial=0) < 65504)  # else refused, by design
    manifest = write_weights(folder, [("w", data)], shard_size_bytes=shard,
                             quantize={"w": method})
    quantization = manifest[0]["weights"][0]["quantization"]
    assert quantization["dtype"] == method and quantization["original_dtype"] == "float32"
    back = read_weights(folder, manifest)["w"]
    assert back.dtype == np.float32 and back.shape == data.shape
    bound = dequantization_bound(quantization)
    error = np.abs(back.astype(np.float64) - data)
    if method == "float16":
        assert np.all(error <= bound * np.abs(data) + 2.0**-25)
    else:
        assert np.all(error <= bound)
        if data.size and data.min() <= 0 <= data.max():  # the nudged range holds 0.0 exactly
            q_zero = round(-quantization["min"] / quantization["scale"])
            assert q_zero * quantization["scale"] + quantization["min"] == 0.0


def test_write_converts_byte_order_and_layout(tmp_path):
    data = np.arange(6, dtype=">f4").reshape(2, 3).T  # big-endian, not C-contiguous
    manifest = write_weights(tmp_path, [("w", data)])
    assert (tmp_path / "group1-shard1of1.bin").read_bytes() == np.ascontiguousarray(
        data, "<f4").tobytes()
    np.testing.assert_array_equal(read_weights(tmp_path, manifest)["w"], data)


# ---------------------------------------------------------------- shard cutting

@pytest.mark.parametrize(("shard", "sizes"), [
    (1, [1] * 24), (4, [4] * 6), (5, [5, 5, 5, 5, 4]), (7, [7, 7, 7, 3]), (8, [8, 8, 8]),
    (12, [12, 12]), (23, [23, 1]), (24, [24]), (1000, [24]),
])
def test_shard_cutting_matches_converter(tmp_path, shard, sizes):
    a = np.array([1.5, -2.0, 3.25], np.float32)  # bytes 0..12
    b = np.array([7, -8], np.int32)  # bytes 12..20, spans shards for most sizes
    c = np.array(0.5, np.float32)  # bytes 20..24, a scalar
    manifest = write_weights(tmp_path, [("a", a), ("b", b), ("c", c)], shard_size_bytes=shard)
    n = len(sizes)
    paths = [f"group1-shard{i}of{n}.bin" for i in range(1, n + 1)]
    assert manifest == [{"paths": paths, "weights": [
        {"name": "a", "shape": [3], "dtype": "float32"},
        {"name": "b", "shape": [2], "dtype": "int32"},
        {"name": "c", "shape": [], "dtype": "float32"},
    ]}]
    assert [(tmp_path / p).stat().st_size for p in paths] == sizes
    stream = b"".join((tmp_path / p).read_bytes() for p in paths)
    assert stream == a.tobytes() + b.tobytes() + c.tobytes()
    back = read_weights(tmp_path, manifest)
    np.testing.assert_array_equal(back["a"], a)
    np.testing.assert_array_equal(back["b"], b)
    assert back["c"].shape == () and back["c"] == 0.5


def test_group_name_and_no_bytes_no_shard(tmp_path):
    manifest = write_weights(tmp_path, [("e", np.zeros((0, 3), np.float32))], group_name="group2")
    assert manifest == [{"paths": [], "weights": [{"name": "e", "shape": [0, 3],
                                                   "dtype": "float32"}]}]
    assert os.listdir(tmp_path) == []
    assert read_weights(tmp_path, manifest)["e"].shape == (0, 3)
    manifest = write_weights(tmp_path, [("x", np.ones(2, np.float32))], group_name="group2")
    assert manifest[0]["paths"] == ["group2-shard1of1.bin"]


def test_converter_example_quantize_group(tmp_path):
    """write_weights_test.py `test_quantize_group`, without its string weight."""
    manifest = write_weights(tmp_path, [
        ("weight1", np.array([1, 2, 3], np.float32)),
        ("weight2", np.array([4, 5], np.int32)),
        ("weight3", np.array([6, 7], np.float32)),
    ], shard_size_bytes=1024, quantize={"weight1": "float16", "weight2": "uint8",
                                        "weight3": "uint8"})
    assert manifest == [{"paths": ["group1-shard1of1.bin"], "weights": [
        {"name": "weight1", "shape": [3], "dtype": "float32",
         "quantization": {"dtype": "float16", "original_dtype": "float32"}},
        {"name": "weight2", "shape": [2], "dtype": "int32"},  # only float32 is quantized
        {"name": "weight3", "shape": [2], "dtype": "float32",
         "quantization": {"dtype": "uint8", "min": 6.0, "scale": 1 / 255,
                          "original_dtype": "float32"}},
    ]}]
    assert list(manifest[0]["weights"][2]["quantization"]) == [
        "dtype", "min", "scale", "original_dtype"]
    json.dumps(manifest)  # plain JSON types only
    raw = (tmp_path / "group1-shard1of1.bin").read_bytes()
    assert len(raw) == 16
    assert np.frombuffer(raw[:6], "<f2").tolist() == [1, 2, 3]
    assert np.frombuffer(raw[6:14], "<i4").tolist() == [4, 5]
    assert list(raw[14:]) == [0, 255]


def test_affine_nudges_zero_and_keeps_constant_arrays(tmp_path):
    data = np.array([-1.0, 0.0, 2.0], np.float32)
    manifest = write_weights(tmp_path, [("w", data), ("k", np.full(4, 0.25, np.float32))],
                             quantize={"w": "uint8", "k": "uint16"})
    qw, qk = (w["quantization"] for w in manifest[0]["weights"])
    assert qw["scale"] == 3.0 / 255 and qw["min"] == -85 * (3.0 / 255)
    assert qk["scale"] == 1.0 and qk["min"] == 0.25
    back = read_weights(tmp_path, manifest)
    assert back["w"][1] == 0.0
    np.testing.assert_array_equal(back["k"], np.full(4, 0.25, np.float32))


def test_write_refuses_bad_requests(tmp_path):
    f32 = np.ones(2, np.float32)
    with pytest.raises(ValueError, match="duplicate"):
        write_weights(tmp_path, [("a", f32), ("a", f32)])
    with pytest.raises(ValueError, match="not written"):
        write_weights(tmp_path, [("a", f32)], quantize={"b": "uint8"})
    with pytest.raises(ValueError, match="unknown quantization"):
        write_weights(tmp_path, [("a", f32)], quantize={"a": "int4"})
    with pytest.raises(ValueError, match="float64"):
        write_weights(tmp_path, [("a", np.ones(2))])
    with pytest.raises(ValueError, match="float16 range"):
        write_weights(tmp_path, [("a", np.array([1e5], np.float32))], quantize={"a": "float16"})
    with pytest.raises(ValueError, match="NaN"):
        write_weights(tmp_path, [("a", np.array([np.nan], np.float32))], quantize={"a": "uint8"})
    with pytest.raises(ValueError, match="shard_size_bytes"):
        write_weights(tmp_path, [("a", f32)], shard_size_bytes=0)
    with pytest.raises(ValueError, match="group_name"):
        write_weights(tmp_path, [("a", f32)], group_name="../g")
    assert os.listdir(tmp_path) == []


# ---------------------------------------------------------------- tfjs-exact decoding

def _tfjs_half_table_bits(codes: np.ndarray) -> np.ndarray:
    """tfjs's getFloat16Decoder (mantissa/exponent/offset tables), rebuilt independently."""
    def mantissa(i: int) -> int:
        m, e = i << 13, 0
        while not m & 0x00800000:
            e -= 0x00800000
            m <<= 1
        return (m & ~0x00800000) | (e + 0x38800000)

    mant = [0] + [mantissa(i) for i in range(1, 1024)]
    mant += [0x38000000 + ((i - 1024) << 13) for i in range(1024, 2048)]
    expo = [0] + [i << 23 for i in range(1, 31)] + [0x47800000, 0x80000000]
    expo += [0x80000000 + ((i - 32) << 23) for i in range(33, 63)] + [0xC7800000]
    offs = [0 if i in (0, 32) else 1024 for i in range(64)]
    mant_a, expo_a, offs_a = (np.array(t, np.int64) for t in (mant, expo, offs))
    c = codes.astype(np.int64)
    return (mant_a[offs_a[c >> 10] + (c & 0x3FF)] + expo_a[c >> 10]).astype(np.uint32)


def test_float16_decoding_bit_identical_to_tfjs_for_every_code(tmp_path):
    codes = np.arange(65536, dtype=np.uint16)
    _make(tmp_path, {"s.bin": codes.astype("<u2").tobytes()})
    manifest = [{"paths": ["s.bin"], "weights": [
        {"name": "h", "shape": [256, 256], "dtype": "float32",
         "quantization": {"dtype": "float16"}}]}]
    back = read_weights(tmp_path, manifest)["h"]
    assert back.shape == (256, 256)
    np.testing.assert_array_equal(back.reshape(-1).view(np.uint32), _tfjs_half_table_bits(codes))


@pytest.mark.parametrize(("qdtype", "scale", "minimum"), [
    ("uint8", 0.1, -12.7), ("uint8", 0.007, 0.3), ("uint16", 3.3e-5, -1.1), ("uint16", 7, 5),
])
def test_affine_decoding_is_float64_then_float32_like_js(tmp_path, qdtype, scale, minimum):
    count = 256 if qdtype == "uint8" else 65536
    q = np.arange(count)
    _make(tmp_path, {"s.bin": q.astype("u1" if qdtype == "uint8" else "<u2").tobytes()})
    manifest = [{"paths": ["s.bin"], "weights": [
        {"name": "a", "shape": [count], "dtype": "float32",
         "quantization": {"dtype": qdtype, "scale": scale, "min": minimum}}]}]
    back = read_weights(tmp_path, manifest)["a"]
    # JS: values[i] = v * scale + min: two double operations, then Float32Array rounding.
    expected = np.array([np.float32(v * float(scale) + float(minimum)) for v in q.tolist()])
    np.testing.assert_array_equal(back.view(np.uint32), expected.view(np.uint32))


def test_affine_decoding_differs_from_float32_arithmetic(tmp_path):
    q = np.arange(256)
    _make(tmp_path, {"s.bin": q.astype("u1").tobytes()})
    manifest = [{"paths": ["s.bin"], "weights": [
        {"name": "a", "shape": [256], "dtype": "float32",
         "quantization": {"dtype": "uint8", "scale": 0.1, "min": -12.7}}]}]
    back = read_weights(tmp_path, manifest)["a"]
    in_float32 = q.astype(np.float32) * np.float32(0.1) + np.float32(-12.7)
    assert np.any(back != in_float32)  # the test above really discriminates


def test_int32_quantized_uses_math_round_and_int32_wrap(tmp_path):
    _make(tmp_path, {"s.bin": bytes(range(13)) + b"\x00\x00\x00"})
    manifest = [{"paths": ["s.bin"], "weights": [
        {"name": "r", "shape": [13], "dtype": "int32",
         "quantization": {"dtype": "uint8", "scale": 0.5, "min": -3}},
        {"name": "wrap", "shape": [1], "dtype": "int32",
         "quantization": {"dtype": "uint8", "scale": 1, "min": 2**31}},
        {"name": "near_half", "shape": [1], "dtype": "int32",
         "quantization": {"dtype": "uint8", "scale": 1, "min": 0.49999999999999994}},
        {"name": "neg", "shape": [1], "dtype": "int32",
         "quantization": {"dtype": "uint8", "scale": 1, "min": -(2**32) - 5.5}},
    ]}]
    back = read_weights(tmp_path, manifest)
    assert back["r"].dtype == np.int32
    assert back["r"].tolist() == [-3, -2, -2, -1, -1, 0, 0, 1, 1, 2, 2, 3, 3]
    assert back["wrap"].tolist() == [-(2**31)]
    assert back["near_half"].tolist() == [0]
    assert back["neg"].tolist() == [-5]


def test_bool_bytes_and_multiple_groups(tmp_path):
    _make(tmp_path, {"a.bin": bytes([0, 1, 2]), "b1.bin": b"\x01\x00", "b2.bin": b"\x00\x00"})
    manifest = [
        {"paths": ["a.bin"], "weights": [{"name": "m", "shape": [3], "dtype": "bool"}]},
        {"paths": ["b1.bin", "b2.bin"], "weights": [{"name": "i", "shape": [], "dtype": "int32"}]},
    ]
    back = read_weights(tmp_path, manifest)
    assert back["m"].tolist() == [False, True, True]
    assert back["i"].shape == () and back["i"] == 1


def test_paths_in_subfolder_and_symlink_inside_are_fine(tmp_path):
    (tmp_path / "shards").mkdir()
    (tmp_path / "shards" / "real.bin").write_bytes(np.float32(2).tobytes())
    (tmp_path / "link.bin").symlink_to(tmp_path / "shards" / "real.bin")
    for path in ("shards/real.bin", "link.bin"):
        manifest = [{"paths": [path], "weights": [{"name": "w", "shape": [], "dtype": "float32"}]}]
        assert read_weights(tmp_path, manifest)["w"] == 2.0


def test_memory_stays_near_one_copy(tmp_path):
    data = np.arange(1 << 21, dtype=np.float32)  # 8 MiB over 8 shards
    manifest = write_weights(tmp_path, [("w", data)], shard_size_bytes=1 << 20)
    tracemalloc.start()
    try:
        back = read_weights(tmp_path, manifest)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < data.nbytes * 1.1
    np.testing.assert_array_equal(back["w"], data)


def test_writing_quantizes_one_weight_at_a_time(tmp_path):
    weights = [(f"w{i}", np.full(1 << 20, i + 0.5, np.float32)) for i in range(4)]  # 4 MiB each
    tracemalloc.start()
    try:
        manifest = write_weights(tmp_path, weights, shard_size_bytes=1 << 20,
                                 quantize={name: "float16" for name, _ in weights})
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 2 * weights[0][1].nbytes  # all four 2 MiB halves at once would be 8 MiB
    back = read_weights(tmp_path, manifest)
    for name, data in weights:
        np.testing.assert_array_equal(back[name], data)


def test_write_reports_progress_and_fills_every_entry(tmp_path):
    calls: list[tuple[int, int]] = []
    weights = [("a", np.ones(300, np.float32)), ("b", np.ones(50, np.int32)),
               ("e", np.zeros(0, np.float32))]
    manifest = write_weights(tmp_path, weights, shard_size_bytes=512,
                             quantize={"a": "uint8", "e": "float16"},
                             progress=lambda done, total: calls.append((done, total)))
    assert [done for done, _ in calls] == sorted(done for done, _ in calls)
    assert calls[-1] == (500, 500) and {total for _, total in calls} == {500}
    assert manifest[0]["weights"][2]["quantization"]["dtype"] == "float16"
    assert sorted(os.listdir(tmp_path)) == manifest[0]["paths"]


# ---------------------------------------------------------------- safety rules

@pytest.mark.parametrize("path", [
    "../evil.bin", "sub/../../evil.bin", "..\\evil.bin", "./../evil.bin", "././x.bin", "a//b.bin",
    "", "./", "/abs.bin",
])
def test_rejects_paths_leaving_the_folder(tmp_path, path):
    folder = _fresh(tmp_path, "model")
    (tmp_path / "evil.bin").write_bytes(b"\0" * 4)
    manifest = _one([1])
    manifest[0]["paths"] = [path]
    _rejects(folder, manifest, "/weightsManifest/0/paths/0", repr(path), "relative file name")


def test_a_leading_dot_slash_is_the_folder_itself_as_tfjs_browser_downloads_write_it(tmp_path):
    folder = _fresh(tmp_path, "model")
    (folder / "my-model.weights.bin").write_bytes(np.float32([1.5]).tobytes())
    manifest = _one([1])
    manifest[0]["paths"] = ["./my-model.weights.bin"]
    assert read_weights(folder, manifest)["w"].tolist() == [1.5]


def test_rejects_absolute_path(tmp_path):
    folder = _fresh(tmp_path, "model")
    evil = tmp_path / "evil.bin"
    evil.write_bytes(b"\0" * 4)
    manifest = _one([1])
    manifest[0]["paths"] = [str(evil)]
    _rejects(folder, manifest, "/weightsManifest/0/paths/0", str(evil))


def test_rejects_symlink_resolving_outside(tmp_path):
    folder = _fresh(tmp_path, "model")
    (tmp_path / "evil.bin").write_bytes(b"\0" * 4)
    (folder / "group1-shard1of1.bin").symlink_to(tmp_path / "evil.bin")
    _rejects(folder, _one([1]), "/weightsManifest/0/paths/0", "'group1-shard1of1.bin'",
             "outside the model folder")


def test_rejects_missing_shard(tmp_path):
    _rejects(tmp_path, _one([1]), "/weightsManifest/0/paths/0", "'group1-shard1of1.bin'",
             "does not exist")


def test_rejects_directory_as_shard(tmp_path):
    (tmp_path / "group1-shard1of1.bin").mkdir()
    _rejects(tmp_path, _one([1]), "/weightsManifest/0/paths/0", "not a regular file")


def _two_shards(folder: Path, cut: int = 0, extra: bytes = b"") -> list[dict]:
    manifest = write_weights(folder, [("a", np.ones(3, np.float32)),
                                      ("b", np.ones(3, np.float32))], shard_size_bytes=16)
    last = folder / "group1-shard2of2.bin"
    data = last.read_bytes()
    last.write_bytes(data[:len(data) - cut] + extra)
    return manifest


def test_rejects_truncated_shard(tmp_path):
    manifest = _two_shards(tmp_path, cut=1)
    _rejects(tmp_path, manifest, "/weightsManifest/0/weights/1", "'b'", "'group1-shard2of2.bin'",
             "truncated")


def test_rejects_extra_trailing_bytes(tmp_path):
    manifest = _two_shards(tmp_path, extra=b"\0\0")
    _rejects(tmp_path, manifest, "/weightsManifest/0/paths/1", "'group1-shard2of2.bin'",
             "2 extra trailing bytes")


@pytest.mark.parametrize("shape", [[-1], [1.5], [2.0], [True], ["3"], [None], 3, None])
def test_rejects_bad_shapes(tmp_path, shape):
    _make(tmp_path, {"group1-shard1of1.bin": b"\0" * 12})
    _rejects(tmp_path, _one(shape), "/weightsManifest/0/weights/0/shape", "'w'")


@pytest.mark.parametrize("shape", [[2**21, 2**20], [2**41], [2**1000, 0]])
def test_rejects_absurd_shapes(tmp_path, shape):
    _make(tmp_path, {"group1-shard1of1.bin": b"\0" * 4})
    _rejects(tmp_path, _one(shape), "/weightsManifest/0/weights/0/shape", "2**40")


def test_huge_claim_fails_before_allocating(tmp_path):
    _make(tmp_path, {"group1-shard1of1.bin": b"\0" * 16})
    tracemalloc.start()
    try:
        _rejects(tmp_path, _one([2**38]), "/weightsManifest/0/weights/0",
                 "'group1-shard1of1.bin'", f"needs bytes 0..{2**40}", "hold 16 bytes")
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 1 << 20


@pytest.mark.parametrize("dtype", ["float64", "string", "complex64", None, 1])
def test_rejects_unknown_dtype(tmp_path, dtype):
    _make(tmp_path, {"group1-shard1of1.bin": b"\0" * 4})
    _rejects(tmp_path, _one([1], dtype), "/weightsManifest/0/weights/0/dtype", "unsupported dtype")


@pytest.mark.parametrize(("dtype", "quantization", "pointer", "fragment"), [
    ("float32", {"dtype": "int4"}, "dtype", "unknown quantization dtype 'int4'"),
    ("float32", {"dtype": None}, "dtype", "unknown quantization dtype"),
    ("int32", {"dtype": "float16"}, "dtype", "cannot hold"),
    ("bool", {"dtype": "uint8", "scale": 1, "min": 0}, "dtype", "cannot hold"),
    ("float32", {"dtype": "uint8", "min": 0}, "scale", "finite scale"),
    ("float32", {"dtype": "uint16", "scale": 1, "min": "0"}, "min", "finite min"),
    ("float32", {"dtype": "uint8", "scale": True, "min": 0}, "scale", "finite scale"),
    ("float32", {"dtype": "uint8", "scale": 10**400, "min": 0}, "scale", "finite scale"),
])
def test_rejects_bad_quantization(tmp_path, dtype, quantization, pointer, fragment):
    _make(tmp_path, {"group1-shard1of1.bin": b"\0\0"})
    manifest = _one([1], dtype, quantization=quantization)
    _rejects(tmp_path, manifest, f"/weightsManifest/0/weights/0/quantization/{pointer}", fragment)


def test_rejects_null_quantization(tmp_path):
    _make(tmp_path, {"group1-shard1of1.bin": b"\0" * 4})
    _rejects(tmp_path, _one([1], quantization=None), "/weightsManifest/0/weights/0/quantization")


def test_rejects_duplicate_names_across_groups(tmp_path):
    _make(tmp_path, {"a.bin": b"\0" * 4, "b.bin": b"\0" * 4})
    manifest = [
        {"paths": ["a.bin"], "weights": [{"name": "w", "shape": [1], "dtype": "float32"}]},
        {"paths": ["b.bin"], "weights": [{"name": "w", "shape": [1], "dtype": "float32"}]},
    ]
    _rejects(tmp_path, manifest, "/weightsManifest/1/weights/0/name", "duplicate weight name 'w'")


@pytest.mark.parametrize(("manifest", "pointer"), [
    ({}, "/weightsManifest"),
    ([[]], "/weightsManifest/0"),
    ([{"weights": []}], "/weightsManifest/0/paths"),
    ([{"paths": [3], "weights": []}], "/weightsManifest/0/paths"),
    ([{"paths": []}], "/weightsManifest/0/weights"),
    ([{"paths": [], "weights": ["w"]}], "/weightsManifest/0/weights/0"),
    ([{"paths": [], "weights": [{"shape": [], "dtype": "float32"}]}],
     "/weightsManifest/0/weights/0/name"),
])
def test_rejects_malformed_manifest(tmp_path, manifest, pointer):
    _rejects(tmp_path, manifest, pointer)


def test_dequantization_bound():
    assert dequantization_bound({"dtype": "float16"}) == 2.0**-11
    bound = dequantization_bound({"dtype": "uint8", "scale": 0.5, "min": -1.0})
    assert 0.25 < bound <= 0.25 + float(np.spacing(np.float32(126.5)))
    with pytest.raises(ValueError):
        dequantization_bound({"dtype": "int4"})
