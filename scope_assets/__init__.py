"""scope-assets: SCoPe's ZTF variable-source classification as Dagster assets."""

__version__ = "0.1.0"
