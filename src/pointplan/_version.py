"""The version of pointplan, in a module that imports nothing.

Any module may read it without loading the package: ``from pointplan._version import
__version__``. ``pointplan.__version__`` re-exports it.

Examples
--------
>>> from pointplan._version import __version__
>>> __version__.count(".") >= 1
True
"""

__version__ = "0.1.0"
