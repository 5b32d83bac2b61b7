"""Benchmarks and fixture generators (``make bench``, ``make stemcell-fixture``)."""
