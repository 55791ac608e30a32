"""Test-only plugins: one small, realistic implementation per hook (``contract``),
plugins that break the contract on purpose (``failing`` and the ``folder_mixed``
plugins folder), and the data files they register."""
