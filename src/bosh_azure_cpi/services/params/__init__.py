"""Pure builders of Azure SDK request models; no clients, no I/O."""
