"""Store backends, one per module; resolved by name through `nesykg.kg.registry`."""
