"""The PySide6 desktop application: add photos, protect them with the cloak pipeline, check the result."""
