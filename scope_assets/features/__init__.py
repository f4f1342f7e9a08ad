"""SCoPe features of light curves; numba kernels cached with package-wide stamps (``numba_cache``)."""

from scope_assets.numba_cache import install_package_locators

install_package_locators()
