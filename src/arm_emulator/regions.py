"""Azure region names: ``"East US 2"``, ``"eastus2"`` and ``"EastUS2"`` are the same region.

ARM compares regions after lower-casing and removing spaces; Compute Gallery answers target regions
in display form ("East US 2") while resources keep the ``location`` string the caller sent.
"""

from __future__ import annotations

# Display names of the public-cloud regions (``az account list-locations``), keyed by normalised name.
_DISPLAY_NAMES = {
    "eastus": "East US",
    "eastus2": "East US 2",
    "westus": "West US",
    "westus2": "West US 2",
    "westus3": "West US 3",
    "centralus": "Central US",
    "northcentralus": "North Central US",
    "southcentralus": "South Central US",
    "westcentralus": "West Central US",
    "canadacentral": "Canada Central",
    "canadaeast": "Canada East",
    "brazilsouth": "Brazil South",
    "northeurope": "North Europe",
    "westeurope": "West Europe",
    "uksouth": "UK South",
    "ukwest": "UK West",
    "francecentral": "France Central",
    "germanywestcentral": "Germany West Central",
    "switzerlandnorth": "Switzerland North",
    "norwayeast": "Norway East",
    "swedencentral": "Sweden Central",
    "polandcentral": "Poland Central",
    "italynorth": "Italy North",
    "spaincentral": "Spain Central",
    "eastasia": "East Asia",
    "southeastasia": "Southeast Asia",
    "japaneast": "Japan East",
    "japanwest": "Japan West",
    "koreacentral": "Korea Central",
    "centralindia": "Central India",
    "southindia": "South India",
    "australiaeast": "Australia East",
    "australiasoutheast": "Australia Southeast",
    "southafricanorth": "South Africa North",
    "uaenorth": "UAE North",
    "israelcentral": "Israel Central",
    "qatarcentral": "Qatar Central",
    "mexicocentral": "Mexico Central",
    "chinanorth3": "China North 3",
    "chinaeast2": "China East 2",
    "usgovvirginia": "USGov Virginia",
    "usgovarizona": "USGov Arizona",
}


def normalize(region: str) -> str:
    """Lower-case the region and drop spaces: ``"East US 2"`` → ``"eastus2"``."""
    return region.replace(" ", "").lower()


def display_name(region: str) -> str:
    """Display form of a region (``"eastus2"`` → ``"East US 2"``); unknown names are returned as given."""
    return _DISPLAY_NAMES.get(normalize(region), region)


def is_known(region: str) -> bool:
    return normalize(region) in _DISPLAY_NAMES


def known_regions() -> list[str]:
    """Display names of every region the emulator accepts."""
    return sorted(_DISPLAY_NAMES.values())
