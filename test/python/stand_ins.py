"""Empty modules standing in for packages a library imports but the code under test never uses (data
loading, visualisation, torchvision beside a torch it cannot import with): `install({"cv2", …})` puts a
finder first on sys.meta_path so `import cv2` gives a module whose class-like attributes are dummy
classes (their own attributes dummies too) and whose other attributes are no-op functions. Shared by the
scripts that build truth with real libraries (paddle_model_truth.py, scripts-corpus/make_corpus.py)."""
import importlib.abc
import importlib.machinery
import sys
import types


class _Meta(type):
    def __getattr__(cls, attr):
        if attr.startswith("__"):
            raise AttributeError(attr)
        return _dummy(f"{cls.__name__}.{attr}")


_made = {}


def _dummy(name):
    return _made.setdefault(name, _Meta(name, (), {}))


def _module_attr(attr):
    if attr.startswith("_"):
        raise AttributeError(attr)
    return _dummy(attr) if attr[:1].isupper() else (lambda *a, **k: None)


class _Absent(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    def __init__(self, names):
        self.names = set(names)

    def find_spec(self, name, path, target=None):
        # A top-level name stands in for its whole package; a dotted one for that module only.
        return importlib.machinery.ModuleSpec(name, self, is_package=True) if name.split(".")[0] in self.names or name in self.names else None

    def create_module(self, spec):
        m = types.ModuleType(spec.name)
        m.__path__ = []
        m.__getattr__ = _module_attr
        return m

    def exec_module(self, module):
        pass


def install(names):
    sys.meta_path.insert(0, _Absent(names))
