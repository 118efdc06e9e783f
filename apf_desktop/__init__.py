"""apf_desktop: the user-facing application (cloak pipeline shared by the CLI and the PySide6 GUI)."""
