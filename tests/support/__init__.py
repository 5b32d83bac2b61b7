"""Builders shared by the tests (stemcell images, VHD footers)."""
