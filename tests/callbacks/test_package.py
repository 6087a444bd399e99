import subprocess
import sys

import keras

import callbacks


def test_importing_callbacks_does_not_import_keras_or_tensorflow():
    code = (
        "import sys, callbacks; "
        "print(sorted(m for m in ('keras', 'tensorflow') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


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
