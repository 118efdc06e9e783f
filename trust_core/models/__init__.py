"""Model architectures shared across the project and the weights registry."""
from trust_core.models.registry import (
    WeightsEntry,
    WeightsError,
    cache_dir,
    derived,
    entries,
    record,
    sha256_of,
    weights_path,
)

__all__ = ["WeightsEntry", "WeightsError", "cache_dir", "derived", "entries", "record", "sha256_of", "weights_path"]
