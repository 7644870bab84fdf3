"""
`treadle.Tensor`: a tensor stored level by level as its `#sparse.encoding` says.

Each level keeps the arrays of its level type (MLIR's storage scheme): a compressed level has
`pos` (one segment per parent position, plus one) and `crd`; a singleton level has `crd`; a dense
level has none. `values` holds one value per position of the last level. Compiled kernels read
these arrays in place, so they are plain contiguous numpy arrays.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from treadle.dialects.sparse import EncodingAttr, format_name, named_encoding
from treadle.errors import Error

_INDEX_DTYPES = {0: np.int64, 8: np.int8, 16: np.int16, 32: np.int32, 64: np.int64}


@dataclass(frozen=True)
class LevelStorage:
    """The arrays of one level: `pos` for compressed levels, `crd` for compressed/singleton."""

    pos: np.ndarray | None
    crd: np.ndarray | None


class Tensor:
    """A dense or sparse tensor in a Treadle format. Build one with `treadle.tensor(...)`."""

    def __init__(
        self,
        shape: tuple[int, ...],
        encoding: EncodingAttr | None,
        levels: list[LevelStorage],
        values: np.ndarray,
    ):
        self.shape = tuple(int(s) for s in shape)
        self.encoding = None if encoding is None or encoding.is_all_dense_identity else encoding
        self.levels = levels
        self.values = values

    # -- properties --------------------------------------------------------------------------

    @property
    def format(self) -> str:
        """The format's shorthand (`dense`, `csr`, `bsr:4x4`, ...) or its full encoding text."""
        name = format_name(self.encoding, self.ndim)
        return name if name is not None else str(self.encoding)

    @property
    def ndim(self) -> int:
        return len(self.shape)

    @property
    def dtype(self) -> np.dtype:
        return self.values.dtype

    @property
    def nnz(self) -> int:
        """Stored entries (explicit zeros inside stored blocks count, as in scipy)."""
        return int(self.values.size)

    def __repr__(self) -> str:
        return f"treadle.Tensor(shape={self.shape}, format={self.format!r}, nnz={self.nnz}, dtype={self.dtype})"

    # -- conversions out ---------------------------------------------------------------------

    def coordinates(self) -> tuple[np.ndarray, np.ndarray]:
        """All stored entries as (coords of shape (ndim, n), values), in storage order."""
        if self.encoding is None:
            coords = np.indices(self.shape).reshape(self.ndim, self.values.size)
            return coords, self.values.reshape(-1)
        level_coords: list[np.ndarray] = []
        count = 1
        for level, storage, size in zip(self.encoding.levels, self.levels, self._level_sizes()):
            kind = level.kind.data
            if kind == "dense":
                parent = np.repeat(np.arange(count), size)
                coord = np.tile(np.arange(size), count)
                count *= size
            elif kind == "compressed":
                assert storage.pos is not None and storage.crd is not None
                parent = np.repeat(np.arange(count), np.diff(storage.pos.astype(np.int64)))
                coord = storage.crd.astype(np.int64)
                count = coord.size
            else:
                assert storage.crd is not None
                parent = np.arange(count)
                coord = storage.crd.astype(np.int64)
            level_coords = [c[parent] for c in level_coords] + [coord]
        dims = np.zeros((self.ndim, count), dtype=np.int64)
        for level, coord in zip(self.encoding.levels, level_coords):
            d, op, block = level.dim.data, level.block_op.data, level.block.data
            dims[d] += coord * block if op == "floordiv" else coord
        return dims, self.values

    def to_numpy(self) -> np.ndarray:
        if self.encoding is None:
            return self.values.reshape(self.shape).copy()
        out = np.zeros(self.shape, dtype=self.dtype)
        coords, values = self.coordinates()
        np.add.at(out, tuple(coords), values)
        return out

    def to_scipy(self):
        """A scipy.sparse matrix (2-D only), keeping CSR/CSC/BSR storage as it is."""
        import scipy.sparse as sp

        if self.ndim != 2:
            raise Error(f"to_scipy() needs a 2-D tensor, this one has shape {self.shape}")
        name = self.format
        if name == "csr":
            return sp.csr_matrix((self.values, self.levels[1].crd, self.levels[1].pos), self.shape)
        if name == "csc":
            return sp.csc_matrix((self.values, self.levels[1].crd, self.levels[1].pos), self.shape)
        if name.startswith("bsr:"):
            rows, cols = self.encoding.block_sizes  # type: ignore[union-attr]
            blocks = self.values.reshape(-1, rows, cols)
            return sp.bsr_matrix((blocks, self.levels[1].crd, self.levels[1].pos), self.shape)
        coords, values = self.coordinates()
        return sp.coo_matrix((values, (coords[0], coords[1])), self.shape)

    def to_torch(self):
        """A torch tensor in the closest torch layout (strided, sparse_csr/csc/bsr/coo)."""
        import warnings

        import torch

        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message="Sparse (CSR|CSC|BSR|BSC) tensor support|Sparse invariant")
            return self._to_torch(torch)

    def _to_torch(self, torch: Any):
        name = self.format
        if name == "dense":
            return torch.from_numpy(self.to_numpy())
        values = torch.from_numpy(self.values.copy())
        if name in ("csr", "csc") or name.startswith("bsr:"):
            pos = torch.from_numpy(self.levels[1].pos.astype(np.int64))
            crd = torch.from_numpy(self.levels[1].crd.astype(np.int64))
            if name == "csr":
                return torch.sparse_csr_tensor(pos, crd, values, self.shape)
            if name == "csc":
                return torch.sparse_csc_tensor(pos, crd, values, self.shape)
            rows, cols = self.encoding.block_sizes  # type: ignore[union-attr]
            return torch.sparse_bsr_tensor(pos, crd, values.reshape(-1, rows, cols), self.shape)
        coords, vals = self.coordinates()
        return torch.sparse_coo_tensor(
            torch.from_numpy(coords), torch.from_numpy(np.ascontiguousarray(vals)), self.shape
        ).coalesce()

    def _level_sizes(self) -> list[int]:
        assert self.encoding is not None
        return [lv.level_size(self.shape[lv.dim.data]) for lv in self.encoding.levels]


# ---------------------------------------------------------------------------------------------
# Construction
# ---------------------------------------------------------------------------------------------


def resolve_encoding(fmt: str | EncodingAttr | None, rank: int) -> EncodingAttr | None:
    """A format given by name or encoding, checked against the rank; None means dense."""
    if fmt is None:
        return None
    if isinstance(fmt, EncodingAttr):
        if fmt.rank != rank:
            raise Error(f"format {fmt} maps {fmt.rank} dimensions, but the tensor has rank {rank}")
        return None if fmt.is_all_dense_identity else fmt
    try:
        encoding = named_encoding(fmt, rank)
    except ValueError as err:
        raise Error(str(err)) from None
    return None if encoding.is_all_dense_identity else encoding


def from_coordinates(
    shape: tuple[int, ...],
    coords: np.ndarray,
    values: np.ndarray,
    encoding: EncodingAttr | None,
) -> Tensor:
    """Build a tensor from duplicate-free coordinates (ndim, n) and values (n,)."""
    shape = tuple(int(s) for s in shape)
    rank = len(shape)
    values = np.asarray(values).reshape(-1)
    coords = np.asarray(coords, dtype=np.int64).reshape(rank, values.size)
    if encoding is None:
        dense = np.zeros(shape, dtype=values.dtype)
        if rank:
            dense[tuple(coords)] = values
        elif values.size:
            dense[()] = values[0]
        return Tensor(shape, None, [], np.ascontiguousarray(dense).reshape(-1))
    for d, block in enumerate(encoding.block_sizes):
        if shape[d] % block:
            raise Error(
                f"dimension {d} of size {shape[d]} is not a multiple of the block size {block} "
                f"of format {format_name(encoding, rank) or encoding}"
            )
    level_sizes = [lv.level_size(shape[lv.dim.data]) for lv in encoding.levels]
    level_coords = []
    for level in encoding.levels:
        c = coords[level.dim.data]
        if level.block_op.data == "floordiv":
            c = c // level.block.data
        elif level.block_op.data == "mod":
            c = c % level.block.data
        level_coords.append(c)
    order = np.lexsort(level_coords[::-1]) if level_coords and values.size else np.arange(values.size)
    level_coords = [c[order] for c in level_coords]
    values = values[order]

    pos_dtype = _INDEX_DTYPES[encoding.pos_width.data]
    crd_dtype = _INDEX_DTYPES[encoding.crd_width.data]
    storages: list[LevelStorage] = []
    parent = np.zeros(values.size, dtype=np.int64)
    count = 1
    for level, coord, size in zip(encoding.levels, level_coords, level_sizes):
        kind = level.kind.data
        if kind == "dense":
            node = parent * size + coord
            count *= size
            storages.append(LevelStorage(None, None))
        elif kind == "compressed":
            if level.unique:
                new = np.ones(values.size, dtype=bool)
                new[1:] = (parent[1:] != parent[:-1]) | (coord[1:] != coord[:-1])
                node = np.cumsum(new) - 1
            else:
                new = np.ones(values.size, dtype=bool)
                node = np.arange(values.size)
            pos = np.zeros(count + 1, dtype=pos_dtype)
            np.cumsum(np.bincount(parent[new], minlength=count), out=pos[1:])
            storages.append(LevelStorage(pos, coord[new].astype(crd_dtype)))
            count = int(new.sum())
        else:  # singleton: exactly one child per parent position
            crd = np.zeros(count, dtype=crd_dtype)
            crd[parent] = coord
            node = parent
            storages.append(LevelStorage(None, crd))
        parent = node
    stored = np.zeros(count, dtype=values.dtype)
    stored[parent] = values
    return Tensor(shape, encoding, storages, stored)


def tensor(data: Any, format: str | EncodingAttr | None = None, dtype: Any = None) -> Tensor:
    """
    A Treadle tensor from a numpy array, a scipy.sparse matrix/array, a torch tensor (strided,
    sparse_coo, sparse_csr, sparse_csc, sparse_bsr) or another Treadle tensor.

    `format` is a name (`dense`, `compressed`, `csr`, `csc`, `coo`, `dcsr`, `dcsc`, `csf`,
    `bsr:RxC`) or a `#sparse.encoding`; by default it follows the input's layout.
    """
    shape, coords, values, natural = _coordinates_of(data)
    if dtype is not None:
        values = values.astype(dtype)
    if values.dtype.kind not in "fiu":
        raise Error(f"tensor values must be numbers, got dtype {values.dtype}")
    encoding = resolve_encoding(format if format is not None else natural, len(shape))
    return from_coordinates(shape, coords, values, encoding)


def _coordinates_of(data: Any) -> tuple[tuple[int, ...], np.ndarray, np.ndarray, Any]:
    """(shape, coords, values, natural format) of any supported input."""
    if isinstance(data, Tensor):
        coords, values = data.coordinates()
        keep = values != 0  # the pattern of the new format is rebuilt from the values
        return data.shape, coords[:, keep], values[keep], data.encoding
    module = type(data).__module__
    if module.startswith("scipy.sparse"):
        return _from_scipy(data)
    if module.startswith("torch"):
        return _from_torch(data)
    array = np.asarray(data)
    if array.dtype == object:
        raise Error(f"cannot make a tensor from {type(data).__name__}")
    return _dense_coordinates(array)


def _dense_coordinates(array: np.ndarray) -> tuple[tuple[int, ...], np.ndarray, np.ndarray, Any]:
    coords = np.array(np.nonzero(np.atleast_1d(array)), dtype=np.int64)
    coords = coords.reshape(array.ndim, -1) if array.ndim else coords[:0]
    values = array[tuple(coords)] if array.ndim else array.reshape(-1)[: coords.shape[1]]
    return array.shape, coords, values, None


def _from_scipy(matrix: Any) -> tuple[tuple[int, ...], np.ndarray, np.ndarray, str | None]:
    fmt = matrix.format
    natural = {"csr": "csr", "csc": "csc", "coo": "coo"}.get(fmt)
    if fmt == "bsr":
        rows, cols = matrix.blocksize
        natural = f"bsr:{rows}x{cols}"
    coo = matrix.tocoo()
    coo.sum_duplicates()
    return coo.shape, np.vstack([coo.row, coo.col]).astype(np.int64), coo.data, natural


def _from_torch(t: Any) -> tuple[tuple[int, ...], np.ndarray, np.ndarray, str | None]:
    import torch

    layout = t.layout
    t = t.detach()
    if layout == torch.strided:
        return _dense_coordinates(t.cpu().numpy())
    if layout == torch.sparse_coo:
        t = t.coalesce()
        return tuple(t.shape), t.indices().numpy().astype(np.int64), t.values().numpy(), "coo"
    if t.dim() != 2:
        raise Error(f"only 2-D {layout} tensors are supported, got shape {tuple(t.shape)}")
    import scipy.sparse as sp

    values = t.values().numpy()
    if layout == torch.sparse_csr:
        m = sp.csr_matrix((values, t.col_indices().numpy(), t.crow_indices().numpy()), t.shape)
        return (*_from_scipy(m)[:3], "csr")
    if layout == torch.sparse_csc:
        m = sp.csc_matrix((values, t.row_indices().numpy(), t.ccol_indices().numpy()), t.shape)
        return (*_from_scipy(m)[:3], "csc")
    if layout == torch.sparse_bsr:
        m = sp.bsr_matrix((values, t.col_indices().numpy(), t.crow_indices().numpy()), t.shape)
        return _from_scipy(m)
    raise Error(f"unsupported torch layout {layout}")
