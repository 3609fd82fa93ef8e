"""Value kinds of layer config fields: how each family spells a value, and its JSON Schema.

A kind reads a family's value into the canonical value and writes it back; the schema it gives
is what `validate` checks, so the mapper and the schemas come from the same code. This module
names the kinds the layer descriptions use; the classes live by concern in the modules beside it.
"""

from ..objects import CONSTRAINTS, INITIALIZERS, REGULARIZERS
from .base import Kind
from .objects import DTYPES, ActivationKind, DType, NestedLayer, ObjectKind
from .scalars import (
    Boolean,
    CasedChoice,
    Choice,
    Fraction,
    Integer,
    NonNegative,
    NullOnly,
    Number,
    Text,
)
from .shapes import Axes, Axis, IntList, Shape, Sizes, TargetShape

__all__ = [
    "DTYPES", "ActivationKind", "Axes", "Axis", "Boolean", "CasedChoice", "Choice", "DType",
    "Fraction", "IntList", "Integer", "Kind", "NestedLayer", "NonNegative", "NullOnly", "Number",
    "ObjectKind", "Shape", "Sizes", "TargetShape", "Text",
]

BOOLEAN = Boolean()
UNITS = Integer(minimum=1)
FRACTION = Fraction()
TEXT = Text()
SHAPE = Shape()
ACTIVATION = ActivationKind()
INITIALIZER = ObjectKind(INITIALIZERS)
REGULARIZER = ObjectKind(REGULARIZERS)
CONSTRAINT = ObjectKind(CONSTRAINTS)
DTYPE = DType()
DTYPE_STRING = DType(policy=False)
NULL_ONLY = NullOnly()
IMPLEMENTATION = Integer(minimum=0, nullable=True)
SEED = Integer(minimum=0, nullable=True)
LENGTH = Integer(minimum=1, nullable=True)
NUMBER = Number()
DATA_FORMAT = CasedChoice(("channels_last", "channels_first"))
AXIS = Axis()
TARGET_SHAPE = TargetShape()
SIZES = Sizes()
STRIDES = Sizes(nullable=True)
SIZES_2D = Sizes(rank=2)
STRIDES_2D = Sizes(nullable=True, rank=2)
AXES = Axes()
FALSE_ONLY = Choice((False,))
CONV_PADDING = Choice(("valid", "same", "causal"))
POOL_PADDING = Choice(("valid", "same"))
CONV2D_PADDING = Choice(("valid", "same"))
GROUPS = Integer(minimum=1)
NON_NEGATIVE = NonNegative()
OPTIONAL_NON_NEGATIVE = NonNegative(nullable=True)
PAIR = IntList(length=2)
PERMUTATION = IntList(minimum=1)
