"""The state-vector layout: named blocks, and views of a flat vector shaped (members, ...).

``solve_ivp`` integrates one flat vector. For an ensemble of M members it is the C-order flattening
of a (size, M) array: the member axis is last, so every numpy operation in the right-hand side runs
its inner loop over members (contiguous, vectorized), whatever the block's own shape.
``StateLayout.unpack`` returns, for each block, a numpy *view* of shape ``(*block_shape, M)`` with
no copying, so sector code reads like the equations.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .base_data import N_AGES
from .nodes import N_NODES

N_PIPELINE = 3   # construction stages (third-order delay)
N_LABELS = N_NODES + 1   # migration origins/destinations incl. the rest of China

#: block name -> shape (per member) given k age sub-stages; units and meaning: docs/model.md §4
def block_shapes(k: int) -> dict[str, tuple[int, ...]]:
    N = N_NODES
    return {
        "urban_population": (N,),
        "registered_population": (N,),
        "perceived_attractiveness": (N,),
        "attractiveness_reference": (N,),
        "perceived_ext_utility": (1,),
        "ext_utility_reference": (1,),
        "perceived_wage": (N,),
        "wage_reference": (N,),
        "capital_stock": (N,),
        "log_tfp": (N,),
        "log_deflator": (1,),
        "log_national_income": (1,),
        "log_rural_income": (N,),
        "housing_new": (N,),
        "housing_old": (N,),
        "construction_pipeline": (N, N_PIPELINE),
        "house_price": (N,),
        "smoothed_income": (N,),
        "service_capacity": (N,),
        "extra_students": (N,),
        # accumulators (integrals of flows since the start of the run)
        "cum_births": (N,),
        "cum_deaths": (N,),
        "cum_migration": (N_LABELS, N_LABELS),
        "cum_urbanization": (N,),
        "cum_settlement": (N,),
        "cum_graduates": (N,),
        "cum_graduates_retained": (N,),
        "cum_gdp_real": (N,),
        "cum_gdp_nominal": (N,),
        "cum_starts": (N,),
        "cum_completions": (N,),
        "cum_demolition": (N,),
        # last, so that every other block has an offset that does not depend on k (the compiled
        # right-hand side reads the blocks at the module constants of ``FIXED_OFFSETS``)
        "population": (N, N_AGES, k),
    }


@dataclass(frozen=True)
class StateLayout:
    """Offsets of each block in one member's state vector."""
    k: int
    shapes: dict[str, tuple[int, ...]] = field(init=False)
    slices: dict[str, slice] = field(init=False)
    size: int = field(init=False)

    def __post_init__(self):
        shapes = block_shapes(self.k)
        slices, offset = {}, 0
        for name, shape in shapes.items():
            n = int(np.prod(shape))
            slices[name] = slice(offset, offset + n)
            offset += n
        object.__setattr__(self, "shapes", shapes)
        object.__setattr__(self, "slices", slices)
        object.__setattr__(self, "size", offset)

    def unpack(self, y: np.ndarray, members: int) -> dict[str, np.ndarray]:
        """Views of a flat vector (size*members,) as {block: (*shape, members)}."""
        y2 = y.reshape(self.size, members)
        return {name: y2[sl].reshape(self.shapes[name] + (members,))
                for name, sl in self.slices.items()}

    def pack(self, blocks: dict[str, np.ndarray], members: int) -> np.ndarray:
        """Flat vector from {block: array broadcastable to (*shape, members)}."""
        out = np.zeros((self.size, members))
        for name, sl in self.slices.items():
            if name not in blocks and name.startswith("cum_"):
                continue   # accumulators start at zero
            out[sl] = np.broadcast_to(blocks[name], self.shapes[name] + (members,)).reshape(-1, members)
        return out.reshape(-1)

    def empty(self, members: int) -> np.ndarray:
        return np.zeros(members * self.size)


def _fixed_offsets() -> dict[str, int]:
    """Offset of every block in one member's state vector; ``population`` (size N·G·k) is last."""
    offsets, offset = {}, 0
    for name, shape in block_shapes(1).items():
        offsets[name] = offset
        offset += int(np.prod(shape)) if name != "population" else 0
    return offsets


FIXED_OFFSETS = _fixed_offsets()
