"""Test suite of the Python BOSH Azure CPI."""
