"""bosh-azure-cpi: a BOSH Cloud Provider Interface for Microsoft Azure."""

__version__ = "0.1.0"
