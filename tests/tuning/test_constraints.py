import pytest

from treadle.errors import Error
from treadle.tuning import Categorical, ConstraintError, Constraint, Ordinal, Permutation, Space, SpaceError


def test_expressions_over_numbers_and_permutations():
    c = Constraint("tile_i * tile_j <= 4096")
    assert c({"tile_i": 64, "tile_j": 64}) and not c({"tile_i": 128, "tile_j": 64})
    order = Constraint("order.index('i') < order.index('k')")
    assert order({"order": ("i", "j", "k")}) and not order({"order": ("k", "i", "j")})
    assert Constraint("perm[0] < perm[3]")({"perm": (0, 1, 2, 3, 4)})
    assert Constraint("(a < 2) & (b == 'x') | (a > 8)")({"a": 9, "b": "y"})
    assert Constraint("2 ** a <= 64")({"a": 6}) and not Constraint("2 ** a <= 64")({"a": 7})
    assert c.names == {"tile_i", "tile_j"}


def test_division_by_zero_means_violated():
    assert not Constraint("a % b == 0")({"a": 4, "b": 0})


@pytest.mark.parametrize("text", [
    "__import__('os').system('true')", "a.__class__", "(lambda: 1)()", "open('x')",
    "[x for x in a]", "a.real", "__builtins__", "a if", "2 ** 1000000 > a",
])
def test_unsafe_or_malformed_expressions_are_rejected(text):
    with pytest.raises(ConstraintError) as err:
        Constraint(text)({"a": 1})
    assert isinstance(err.value, Error)


def test_type_errors_are_reported_with_the_constraint():
    with pytest.raises(ConstraintError, match="tile < 'x'"):
        Constraint("tile < 'x'")({"tile": 3})


def test_space_rejects_constraints_on_unknown_parameters():
    with pytest.raises(SpaceError, match="unknown parameter"):
        Space([Ordinal("tile", [1, 2])], ["tile * unroll < 4"])


def test_callable_constraints():
    space = Space([Categorical("s", ["a", "b"]), Permutation("p", 3)],
                  [lambda c: c["s"] == "a" or c["p"][0] == 0])
    assert space.is_feasible({"s": "b", "p": (0, 2, 1)}) and not space.is_feasible({"s": "b", "p": (1, 0, 2)})
    with pytest.raises(SpaceError, match="callable"):
        space.to_json()
