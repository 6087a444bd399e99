import keras

import callbacks
from tests.fresh_interpreter import modules_loaded_by


def test_importing_callbacks_does_not_import_keras_or_tensorflow():
    assert modules_loaded_by("import callbacks", ("keras", "tensorflow")) == []


def test_every_public_class_is_a_keras_callback():
    for name in callbacks.__all__:
        assert issubclass(getattr(callbacks, name), keras.callbacks.Callback), name


def test_unknown_names_raise_attribute_error():
    try:
        callbacks.NoSuchCallback  # noqa: B018
    except AttributeError as error:
        assert "NoSuchCallback" in str(error)
    else:
        raise AssertionError("expected AttributeError")
