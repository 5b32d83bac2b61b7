import pytest

from bosh_azure_cpi.errors import InvalidArgument
from bosh_azure_cpi.models.fields import Fields


def test_reads_typed_values_and_defaults():
    f = Fields({"s": "x", "i": 3, "b": True, "l": ["a"], "o": {"k": 1}}, "root")
    assert (f.text("s"), f.integer("i"), f.flag("b"), f.text_list("l")) == ("x", 3, True, ["a"])
    assert f.obj("o").integer("k") == 1
    assert (f.text("missing", "d"), f.integer("missing", 7), f.flag("missing", False)) == ("d", 7, False)


def test_accepts_numeric_and_boolean_strings_as_ruby_templates_render_them():
    f = Fields({"i": "16", "b": "true", "c": "False"}, "")
    assert (f.integer("i"), f.flag("b"), f.flag("c")) == (16, True, False)


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda f: f.text("i"), "'a.b.i' must be a string, got number"),
        (lambda f: f.integer("s"), "'a.b.s' must be an integer, got string"),
        (lambda f: f.integer("i", minimum=5), "'a.b.i' must be at least 5, got 3"),
        (lambda f: f.flag("s"), "'a.b.s' must be a boolean, got string"),
        (lambda f: f.text("missing"), "'a.b.missing' is required"),
        (lambda f: f.nonempty("e"), "'a.b.e' must not be empty"),
        (lambda f: f.choice("s", ("x", "y")), "'a.b.s' must be one of x, y; got 'word'"),
        (lambda f: f.text_list("l"), "'a.b.l[1]' must be a string, got number"),
        (lambda f: f.obj("s"), "'a.b.s' must be an object, got string"),
    ],
)
def test_errors_name_the_key_path(call, message):
    f = Fields({"s": "word", "i": 3, "e": "", "l": ["a", 1]}, "a.b")
    with pytest.raises(InvalidArgument) as caught:
        call(f)
    assert caught.value.message == message


def test_choice_is_case_insensitive_and_returns_canonical_spelling():
    assert Fields({"t": "premium_lrs"}, "").choice("t", ("Standard_LRS", "Premium_LRS")) == "Premium_LRS"


def test_text_map_stringifies_values():
    assert Fields({"tags": {"a": 1, "b": True, "c": "x"}}, "").text_map("tags") == {"a": "1", "b": "true", "c": "x"}
