"""Read a torch ``.pt``/``.pth`` release file without running any code from it.

A torch file is a zip (``<root>/data.pkl``, the pickle, and ``<root>/data/<key>``, the raw bytes
of each storage). A pickle is a program: a full unpickle (``torch.load``, even with
``weights_only`` -- it has had code-execution CVEs) would call whatever callables the file
names. This reader is a ``pickle.Unpickler`` whose ``find_class`` is an allow-list of our own:

- ``collections.OrderedDict`` and ``builtins.set``: real containers;
- ``torch._utils._rebuild_tensor_v2`` / ``_rebuild_parameter`` /
  ``_rebuild_parameter_with_state`` and the ``torch.<Type>Storage`` markers: our own functions
  that build numpy arrays from the storage bytes (dtype from the pickle, little-endian, bounds
  checked); torch is never imported;
- a class of a module tree (``torch.nn.modules.*``, ``torchvision.models.*``,
  ``torchxrayvision.*``): an inert stand-in (:class:`InertModule`) that keeps the attributes the
  file gives it and has no code of the original class;

and refuses every other global (``os.system``, ``builtins.eval``, ``subprocess.*``, ...) before
it could be called, with ``BundleError(code="weights")``. Sizes are bounded.
"""

from __future__ import annotations

import io
import pickle  # the restricted Unpickler below; never pickle.load/loads
import re
import stat
import zipfile
from collections import OrderedDict
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from viewer.errors import BundleError

__all__ = ["InertModule", "read_torch_file", "state_dict_of"]

MAX_FILE_BYTES = 2 * 1024**3
MAX_PICKLE_BYTES = 64 * 1024**2
MAX_MEMBERS = 100_000

_STORAGE_DTYPES = {
    "FloatStorage": "<f4",
    "DoubleStorage": "<f8",
    "HalfStorage": "<f2",
    "BFloat16Storage": "bfloat16",
    "LongStorage": "<i8",
    "IntStorage": "<i4",
    "ShortStorage": "<i2",
    "CharStorage": "i1",
    "ByteStorage": "u1",
    "BoolStorage": "?",
}
_MODULE_TREES = ("torch.nn.modules.", "torchvision.models.", "torchxrayvision.")
_IDENTIFIER = re.compile(r"^_?[A-Z][A-Za-z0-9_]{0,99}$")


class InertModule:
    """What a pickled module class becomes: the state the file gives it, never its code.

    ``source`` is the class the file named (``module.Name``); ``state`` its pickled ``__dict__``.
    """

    source = ""

    def __new__(cls, *_args: Any, **_kwargs: Any) -> InertModule:
        obj = super().__new__(cls)
        obj.state = {}
        return obj

    def __init__(self, *_args: Any, **_kwargs: Any) -> None:
        self.state: dict[str, Any]

    def __setstate__(self, state: Any) -> None:
        if isinstance(state, tuple) and len(state) == 2:  # (dict, slots)
            state = state[0]
        if not isinstance(state, dict):
            raise BundleError("A module in the weights file has a malformed state.", code="weights")
        self.state = state


class _StorageType:
    def __init__(self, name: str) -> None:
        self.name = name


def _weights_error(message: str) -> BundleError:
    return BundleError(message, code="weights")


def _bfloat16(raw: bytes) -> np.ndarray:
    half = np.frombuffer(raw, dtype="<u2").astype(np.uint32) << 16
    return half.view(np.float32)


def _rebuild_tensor(storage: Any, offset: Any, size: Any, stride: Any, *_rest: Any) -> np.ndarray:
    if not isinstance(storage, np.ndarray) or storage.ndim != 1:
        raise _weights_error("A tensor in the weights file does not refer to a storage.")
    try:
        shape = tuple(int(s) for s in size)
        strides = tuple(int(s) for s in stride)
        start = int(offset)
    except (TypeError, ValueError) as exc:
        raise _weights_error("A tensor in the weights file has a malformed shape.") from exc
    if len(shape) != len(strides) or len(shape) > 8 or min((*shape, *strides, start, 0)) < 0:
        raise _weights_error("A tensor in the weights file has a malformed shape.")
    count = int(np.prod(shape, dtype=np.int64)) if shape else 1
    if count == 0:
        return np.zeros(shape, dtype=storage.dtype)
    last = start + sum((n - 1) * s for n, s in zip(shape, strides, strict=True))
    if last >= storage.shape[0]:
        raise _weights_error("A tensor in the weights file reaches past its storage.")
    item = storage.dtype.itemsize
    view = np.lib.stride_tricks.as_strided(
        storage[start:], shape=shape, strides=tuple(s * item for s in strides), writeable=False
    )
    return np.array(view, copy=True)


def _rebuild_parameter(data: Any, *_rest: Any) -> Any:
    return data


def _set(items: Any = ()) -> set[Any]:
    if not isinstance(items, list | tuple | set):
        raise _weights_error("A set in the weights file is malformed.")
    return set(items)


class _Reader(pickle.Unpickler):
    """The restricted unpickler (see the module docstring)."""

    def __init__(self, data: bytes, storages: Mapping[str, bytes]) -> None:
        super().__init__(io.BytesIO(data))
        self._storages = storages
        self._loaded: dict[str, np.ndarray] = {}
        self._stand_ins: dict[str, type[InertModule]] = {}

    def find_class(self, module: str, name: str) -> Any:
        qualified = f"{module}.{name}"
        if qualified == "collections.OrderedDict":
            return OrderedDict
        if qualified in ("builtins.set", "__builtin__.set"):
            return _set
        if qualified == "torch._utils._rebuild_tensor_v2":
            return _rebuild_tensor
        if qualified in (
            "torch._utils._rebuild_parameter",
            "torch._utils._rebuild_parameter_with_state",
        ):
            return _rebuild_parameter
        if module == "torch" and name in _STORAGE_DTYPES:
            return _StorageType(name)
        if module.startswith(_MODULE_TREES) and _IDENTIFIER.match(name):
            if qualified not in self._stand_ins:
                self._stand_ins[qualified] = type(name, (InertModule,), {"source": qualified})
            return self._stand_ins[qualified]
        raise _weights_error(
            f"The weights file asks for {qualified[:120]!r}, which weights never need; it is "
            "refused and nothing from it was run."
        )

    def persistent_load(self, pid: Any) -> Any:
        if not (isinstance(pid, tuple) and len(pid) >= 5 and pid[0] == "storage"):
            raise _weights_error("The weights file refers to something that is not a storage.")
        kind, key, numel = pid[1], str(pid[2]), pid[4]
        if not isinstance(kind, _StorageType) or not isinstance(numel, int) or numel < 0:
            raise _weights_error("A storage in the weights file is malformed.")
        if key in self._loaded:
            return self._loaded[key]
        raw = self._storages.get(key)
        if raw is None:
            raise _weights_error(f"The weights file lacks the storage {key[:40]!r}.")
        dtype = _STORAGE_DTYPES[kind.name]
        item = 2 if dtype == "bfloat16" else np.dtype(dtype).itemsize
        if len(raw) < numel * item:
            raise _weights_error(f"The storage {key[:40]!r} is shorter than the file says.")
        raw = raw[: numel * item]
        array = _bfloat16(raw) if dtype == "bfloat16" else np.frombuffer(raw, dtype=dtype)
        self._loaded[key] = array
        return array


NOT_A_FILE = "The weights file is not a regular file (a folder, pipe or device)."


def read_torch_file(path: str | Path) -> Any:
    """The object a torch zip file holds, tensors as numpy arrays, modules as stand-ins."""
    p = Path(path)
    try:
        st = p.stat()
        if not stat.S_ISREG(st.st_mode):  # a FIFO waits for a writer, /dev/zero never ends
            raise _weights_error(NOT_A_FILE)
        size = st.st_size
        if size > MAX_FILE_BYTES:
            raise _weights_error(f"The weights file is over {MAX_FILE_BYTES} bytes.")
        data = p.read_bytes()
    except OSError as exc:
        raise BundleError(
            f"The weights file cannot be read ({exc.strerror}).", code="weights", path=p
        ) from exc
    return read_torch_bytes(data)


def read_torch_bytes(data: bytes) -> Any:
    """As :func:`read_torch_file`, from the file's bytes."""
    if not data.startswith(b"PK"):
        raise _weights_error(
            "The weights file is not a torch zip file (torch.save since torch 1.6); an older "
            "or other format cannot be read without running code from it."
        )
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        infos = archive.infolist()
        if len(infos) > MAX_MEMBERS:
            raise _weights_error("The weights file has too many members.")
        pickles = [i for i in infos if i.filename.endswith("/data.pkl")]
        if len(pickles) != 1 or pickles[0].file_size > MAX_PICKLE_BYTES:
            raise _weights_error("The weights file has no single data.pkl of a sane size.")
        root = pickles[0].filename[: -len("data.pkl")]
        order = root + "byteorder"
        if order in archive.NameToInfo and archive.read(order).strip() not in (b"little", b""):
            raise _weights_error("The weights file is big-endian; it is not supported.")
        total = 0
        storages: dict[str, bytes] = {}
        for info in infos:
            if info.filename.startswith(root + "data/") and not info.is_dir():
                total += info.file_size
                if total > MAX_FILE_BYTES:
                    raise _weights_error("The weights file unpacks to too many bytes.")
                storages[info.filename[len(root + "data/") :]] = archive.read(info)
        pickled = archive.read(pickles[0])
    except (zipfile.BadZipFile, OSError, EOFError, KeyError) as exc:
        raise _weights_error(f"The weights file is not a readable zip ({exc}).") from exc
    try:
        return _Reader(pickled, storages).load()
    except BundleError:
        raise
    except Exception as exc:  # a malformed pickle: any error from the opcodes we allow
        raise _weights_error(f"The weights file's pickle is malformed ({exc!s:.200}).") from exc


def _module_state(module: InertModule, prefix: str, out: dict[str, np.ndarray]) -> None:
    state = module.state
    skip = state.get("_non_persistent_buffers_set") or set()
    for group in ("_parameters", "_buffers"):
        items = state.get(group) or {}
        if not isinstance(items, Mapping):
            raise _weights_error(f"{module.source} in the weights file has malformed {group}.")
        for name, value in items.items():
            if value is None or (group == "_buffers" and name in skip):
                continue
            if not isinstance(value, np.ndarray):
                raise _weights_error(f"{prefix}{name} in the weights file is not a tensor.")
            out[f"{prefix}{name}"] = value
    children = state.get("_modules") or {}
    if not isinstance(children, Mapping):
        raise _weights_error(f"{module.source} in the weights file has malformed children.")
    for name, child in children.items():
        if child is None:
            continue
        if not isinstance(child, InertModule):
            raise _weights_error(f"{prefix}{name} in the weights file is not a module.")
        _module_state(child, f"{prefix}{name}.", out)


def state_dict_of(obj: Any) -> dict[str, np.ndarray]:
    """A flat state dict (name -> array) from what :func:`read_torch_file` returned: a pickled
    module (its parameters and persistent buffers, as ``state_dict()`` would list them) or a
    state dict, possibly under ``state_dict`` / ``model_state_dict`` / ``model``."""
    if isinstance(obj, InertModule):
        out: dict[str, np.ndarray] = {}
        _module_state(obj, "", out)
        return out
    for wrapper in ("state_dict", "model_state_dict", "model"):
        if isinstance(obj, Mapping) and isinstance(obj.get(wrapper), Mapping | InertModule):
            return state_dict_of(obj[wrapper])
    if not isinstance(obj, Mapping) or not all(
        isinstance(k, str) and isinstance(v, np.ndarray) for k, v in obj.items()
    ):
        raise _weights_error("The weights file does not hold a state_dict (names -> tensors).")
    return dict(obj)
